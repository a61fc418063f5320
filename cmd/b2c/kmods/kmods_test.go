package kmods

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"
)

func TestArchive(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "lib/modules/6.1.0-test")
	files := map[string]string{
		"modules.dep": "kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/drivers/virtio/virtio.ko\n" +
			"kernel/drivers/net/net_failover.ko:\nkernel/drivers/virtio/virtio.ko:\nkernel/drivers/net/e1000e.ko:\n",
		"modules.alias":                      "alias virtio:d00000001v* virtio_net\nalias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e\n",
		"modules.builtin":                    "kernel/net/packet/af_packet.ko\n",
		"kernel/drivers/net/virtio_net.ko":   "VN",
		"kernel/drivers/net/net_failover.ko": "NF",
		"kernel/drivers/virtio/virtio.ko":    "V",
		"kernel/drivers/net/e1000e.ko":       "E",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if rel, err := Release(root); err != nil || rel != "6.1.0-test" {
		t.Errorf("Release = %q, %v", rel, err)
	}
	archive, err := Archive(root, "6.1.0-test", "virtio-net")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	r := cpio.Newc.Reader(bytes.NewReader(archive))
	recs, err := cpio.ReadAllRecords(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		if rec.Mode&cpio.S_IFMT == cpio.S_IFREG {
			b := make([]byte, rec.FileSize)
			rec.ReadAt(b, 0)
			got[rec.Name] = string(b)
		}
	}
	base := "lib/modules/6.1.0-test/"
	for _, want := range []string{"kernel/drivers/net/virtio_net.ko", "kernel/drivers/net/net_failover.ko", "kernel/drivers/virtio/virtio.ko"} {
		if got[base+want] != files[want] {
			t.Errorf("%s: %q, want %q", want, got[base+want], files[want])
		}
	}
	if _, ok := got[base+"kernel/drivers/net/e1000e.ko"]; ok {
		t.Error("the archive holds e1000e, which nothing asked for")
	}
	if a := got[base+"modules.alias"]; !strings.Contains(a, "virtio_net") || strings.Contains(a, "e1000e") {
		t.Errorf("modules.alias = %q, want virtio_net's alias alone", a)
	}
	if d := got[base+"modules.dep"]; strings.Contains(d, "e1000e") || !strings.Contains(d, "virtio_net.ko: kernel/drivers/net/net_failover.ko") || !strings.Contains(d, "virtio.ko:\n") {
		t.Errorf("modules.dep = %q", d)
	}
	if got[base+"modules.builtin"] == "" {
		t.Error("no modules.builtin, which the module loader needs")
	}
	if _, err := Archive(root, "6.1.0-test", "nosuch"); err == nil {
		t.Error("Archive(nosuch) succeeded")
	}
	all, err := Archive(root, "6.1.0-test")
	if err != nil || !bytes.Contains(all, []byte("e1000e.ko")) {
		t.Errorf("Archive of all the modules: %v, e1000e missing", err)
	}
}
