package qemu

import (
	"slices"
	"testing"
)

func TestArgs(t *testing.T) {
	base := []string{
		"-machine", "q35", "-accel", "tcg,thread=single", "-cpu", "max",
		"-smp", "2", "-m", "512", "-nodefaults", "-nographic",
		"-serial", "stdio", "-no-reboot", "-kernel", "/k",
	}
	nic0 := []string{"-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0,romfile="}
	cat := func(parts ...[]string) []string { return slices.Concat(parts...) }
	for _, tt := range []struct {
		name string
		m    Machine
		want []string
	}{
		{
			name: "defaults",
			m:    Machine{Kernel: "/k", NICs: 1},
			want: cat(base, []string{"-append", "console=ttyS0 panic=-1 no_timer_check"}, nic0),
		},
		{
			name: "initramfs and append",
			m:    Machine{Kernel: "/k", NICs: 1, Initramfs: "/i.cpio", Append: []string{`b2c.run="echo hi"`, "quiet"}},
			want: cat(base, []string{"-initrd", "/i.cpio", "-append", `console=ttyS0 panic=-1 no_timer_check b2c.run="echo hi" quiet`}, nic0),
		},
		{
			name: "memory smp",
			m:    Machine{Kernel: "/k", NICs: 1, MemoryMB: 2048, SMP: 4},
			want: cat([]string{
				"-machine", "q35", "-accel", "tcg,thread=single", "-cpu", "max",
				"-smp", "4", "-m", "2048", "-nodefaults", "-nographic",
				"-serial", "stdio", "-no-reboot", "-kernel", "/k",
			}, []string{"-append", "console=ttyS0 panic=-1 no_timer_check"}, nic0),
		},
		{
			name: "disks",
			m:    Machine{Kernel: "/k", NICs: 1, Disks: []string{"/a.img", "/b,c.img"}},
			want: cat(base, []string{"-append", "console=ttyS0 panic=-1 no_timer_check",
				"-drive", "file=/a.img,format=raw,if=none,id=d0", "-device", "virtio-blk-pci,drive=d0",
				"-drive", "file=/b,,c.img,format=raw,if=none,id=d1", "-device", "virtio-blk-pci,drive=d1",
			}, nic0),
		},
		{
			name: "no nic",
			m:    Machine{Kernel: "/k"},
			want: cat(base, []string{"-append", "console=ttyS0 panic=-1 no_timer_check"}),
		},
		{
			name: "two nics and extra args",
			m:    Machine{Kernel: "/k", NICs: 2, Extra: []string{"-device", "virtio-rng-pci"}},
			want: cat(base, []string{"-append", "console=ttyS0 panic=-1 no_timer_check"}, nic0,
				[]string{"-netdev", "user,id=n1", "-device", "virtio-net-pci,netdev=n1,romfile="},
				[]string{"-device", "virtio-rng-pci"}),
		},
		{
			name: "netboot over TFTP: no -kernel, the first NIC keeps its iPXE ROM",
			m:    Machine{Kernel: "/k", NICs: 2, Append: []string{"ignored"}, NetBoot: &NetBoot{"/srv/tftp", "pxelinux.0"}},
			want: cat(base[:len(base)-2],
				[]string{"-netdev", "user,id=n0,tftp=/srv/tftp,bootfile=pxelinux.0", "-device", "virtio-net-pci,netdev=n0,bootindex=0"},
				[]string{"-netdev", "user,id=n1", "-device", "virtio-net-pci,netdev=n1,romfile="}),
		},
		{
			name: "netboot over HTTP",
			m:    Machine{Kernel: "/k", NICs: 1, NetBoot: &NetBoot{"", "http://10.0.2.2:8080/boot.ipxe"}},
			want: cat(base[:len(base)-2],
				[]string{"-netdev", "user,id=n0,bootfile=http://10.0.2.2:8080/boot.ipxe", "-device", "virtio-net-pci,netdev=n0,bootindex=0"}),
		},
		{
			name: "UEFI disk boot",
			m:    Machine{Kernel: "/k", NICs: 1, BIOS: "/ovmf.fd", DiskBoot: true, Disks: []string{"/a.img", "/b.img"}},
			want: cat(base[:len(base)-2], []string{"-bios", "/ovmf.fd",
				"-drive", "file=/a.img,format=raw,if=none,id=d0", "-device", "virtio-blk-pci,drive=d0,bootindex=0",
				"-drive", "file=/b.img,format=raw,if=none,id=d1", "-device", "virtio-blk-pci,drive=d1",
			}, nic0),
		},
		{
			name: "arm64: virt, the PL011 console",
			m:    Machine{Arch: "arm64", Kernel: "/k", NICs: 1, Initramfs: "/i.cpio"},
			want: cat([]string{"-machine", "virt"}, base[2:], []string{"-initrd", "/i.cpio", "-append", "console=ttyAMA0 panic=-1 no_timer_check"}, nic0),
		},
		{
			name: "arm64 netboot: U-Boot's own network stack, no iPXE ROM",
			m:    Machine{Arch: "arm64", NICs: 1, BIOS: "/u-boot.bin", NetBoot: &NetBoot{"/srv/tftp", ""}},
			want: cat([]string{"-machine", "virt"}, base[2:len(base)-2], []string{"-bios", "/u-boot.bin"},
				[]string{"-netdev", "user,id=n0,tftp=/srv/tftp", "-device", "virtio-net-pci,netdev=n0,romfile="}),
		},
		{
			name: "shares",
			m:    Machine{Kernel: "/k", Shares: []Share{{"b2cshare0", "/tmp/out"}, {"b2cshare1", "/a,b"}}},
			want: cat(base, []string{"-append", "console=ttyS0 panic=-1 no_timer_check",
				"-fsdev", "local,id=fs0,path=/tmp/out,security_model=none", "-device", "virtio-9p-pci,fsdev=fs0,mount_tag=b2cshare0",
				"-fsdev", "local,id=fs1,path=/a,,b,security_model=none", "-device", "virtio-9p-pci,fsdev=fs1,mount_tag=b2cshare1",
			}),
		},
		{
			name: "ports",
			m:    Machine{Kernel: "/k", Ports: []Port{{"b2c.stdin", "/tmp/r/in"}, {"b2c.stdout", "/tmp/r,/out"}}},
			want: cat(base, []string{"-append", "console=ttyS0 panic=-1 no_timer_check",
				"-device", "virtio-serial-pci,id=vser0",
				"-chardev", "socket,id=port0,path=/tmp/r/in", "-device", "virtserialport,bus=vser0.0,chardev=port0,name=b2c.stdin",
				"-chardev", "socket,id=port1,path=/tmp/r,,/out", "-device", "virtserialport,bus=vser0.0,chardev=port1,name=b2c.stdout",
			}),
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.Args(AccelTCG); !slices.Equal(got, tt.want) {
				t.Errorf("Args:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestKernelAppend(t *testing.T) {
	amd64, err := LookupArch("amd64")
	if err != nil {
		t.Fatal(err)
	}
	arm64, err := LookupArch("arm64")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := KernelAppend(arm64, []string{"console=ttyS0"}), "console=ttyAMA0 panic=-1 no_timer_check console=ttyS0"; got != want {
		t.Errorf("KernelAppend(arm64) = %q, want %q", got, want)
	}
	for _, tt := range []struct {
		in   []string
		want string
	}{
		{nil, "console=ttyS0 panic=-1 no_timer_check"},
		{[]string{"  quiet "}, "console=ttyS0 panic=-1 no_timer_check quiet"},
		{[]string{"console=ttyS0,115200 panic=5 no_timer_check"}, "console=ttyS0,115200 panic=5 no_timer_check"},
		{[]string{"panic=0", "console=ttyS0"}, "no_timer_check panic=0 console=ttyS0"},
		{[]string{"console=tty0"}, "console=ttyS0 panic=-1 no_timer_check console=tty0"},
		// Options quoted inside another option's value do not count.
		{[]string{`b2c.run="echo console=ttyS0 panic=1 no_timer_check"`}, `console=ttyS0 panic=-1 no_timer_check b2c.run="echo console=ttyS0 panic=1 no_timer_check"`},
	} {
		if got := KernelAppend(amd64, tt.in); got != tt.want {
			t.Errorf("KernelAppend(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestKernelFields(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"a  b", []string{"a", "b"}},
		{`a="b c" d`, []string{`a="b c"`, "d"}},
		{`a="b c`, []string{`a="b c`}},
	} {
		if got := KernelFields(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("KernelFields(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for _, tt := range []struct {
		in   []string
		want string
	}{
		{[]string{"qemu", "-m", "512"}, "qemu -m 512"},
		{[]string{"-append", "console=ttyS0 panic=-1"}, "-append 'console=ttyS0 panic=-1'"},
		{[]string{`b2c.run="it's"`}, `'b2c.run="it'\''s"'`},
		{[]string{""}, "''"},
		{[]string{"romfile=", "user,id=n0"}, "romfile= user,id=n0"},
	} {
		if got := ShellQuote(tt.in); got != tt.want {
			t.Errorf("ShellQuote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestCleanLine(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"hello\r", "hello"},
		{"hello\r\r", "hello"},
		{"10%\r20%\r30%", "30%"},
		{"", ""},
		{"Booting from ROM..\x1bc\x1b[?7l\x1b[2J[    0.000000] Linux", "Booting from ROM..[    0.000000] Linux"},
		{"\x1b[0;32mOK\x1b[0m", "OK"},
	} {
		if got := CleanLine(tt.in); got != tt.want {
			t.Errorf("CleanLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLookupArch(t *testing.T) {
	for _, tt := range []struct {
		name, want, initramfs string
	}{
		{"", "qemu-system-x86_64", "initramfs.linux_amd64.cpio.zst"},
		{"amd64", "qemu-system-x86_64", "initramfs.linux_amd64.cpio.zst"},
		{"arm64", "qemu-system-aarch64", "initramfs.linux_arm64.cpio.zst"},
	} {
		a, err := LookupArch(tt.name)
		if err != nil || a.Binary != tt.want || a.Initramfs() != tt.initramfs {
			t.Errorf("LookupArch(%q) = %s %s, %v; want %s %s", tt.name, a.Binary, a.Initramfs(), err, tt.want, tt.initramfs)
		}
	}
	if _, err := LookupArch("riscv64"); err == nil {
		t.Error("LookupArch(riscv64): no error")
	}
}
