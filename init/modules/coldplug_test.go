package modules

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

const aliasFile = `# Aliases extracted from modules themselves.
alias pci:v00001AF4d*sv*sd*bc*sc*i* virtio_pci
alias virtio:d00000001v* virtio_net
alias virtio:d00000002v* virtio_blk
alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e
alias fs-ext4 ext4
alias acpi*:PNP0501:* 8250_pnp
`

func TestMatch(t *testing.T) {
	aliases, err := ParseAliases(strings.NewReader(aliasFile))
	if err != nil || len(aliases) != 6 {
		t.Fatalf("ParseAliases: %d aliases, %v", len(aliases), err)
	}
	for _, tc := range []struct {
		modalias string
		want     []string
	}{
		{"pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00", []string{"virtio_pci"}},
		{"virtio:d00000001v00001AF4", []string{"virtio_net"}},
		{"pci:v00008086d000010D3sv00008086sd00000000bc02sc00i00", []string{"e1000e"}},
		{"pci:v00008086d00001234sv00008086sd00000000bc02sc00i00", nil},
		{"acpi:PNP0501:", []string{"8250_pnp"}},
	} {
		if got := Match(aliases, tc.modalias); !slices.Equal(got, tc.want) {
			t.Errorf("Match(%s) = %q, want %q", tc.modalias, got, tc.want)
		}
	}
}

func TestColdplug(t *testing.T) {
	aliases, _ := ParseAliases(strings.NewReader(aliasFile))
	loaded := map[string]bool{}
	var order []string
	l := Loader{ByName: func(name string) error {
		order = append(order, name)
		if name == "e1000e" {
			return errors.New("no such device")
		}
		loaded[name] = true
		return nil
	}}
	// The PCI bus shows the virtio device and a NIC; once virtio_pci is
	// loaded, the virtio bus shows a network and a block device.
	list := func() []string {
		out := []string{"pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00", "pci:v00008086d000010D3sv00008086sd00000000bc02sc00i00"}
		if loaded["virtio_pci"] {
			out = append(out, "virtio:d00000001v00001AF4", "virtio:d00000002v00001AF4")
		}
		return out
	}
	got, errs := l.Coldplug(aliases, list)
	if want := []string{"virtio_pci", "virtio_net", "virtio_blk"}; !slices.Equal(got, want) {
		t.Errorf("loaded %q, want %q", got, want)
	}
	if len(errs) != 1 {
		t.Errorf("errors %v, want the one of e1000e", errs)
	}
	if want := []string{"virtio_pci", "e1000e", "virtio_net", "virtio_blk"}; !slices.Equal(order, want) {
		t.Errorf("tried %q, want %q (each once)", order, want)
	}
}
