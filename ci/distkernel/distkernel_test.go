package distkernel

import (
	"os"
	"path/filepath"
	"testing"
)

// Tree lays a kernel package out as a developer's tree after
// modules_install.
func TestTree(t *testing.T) {
	k := &Kernel{Dir: t.TempDir(), Release: "6.1.0-test"}
	k.Image = filepath.Join(k.Dir, "boot/vmlinuz-6.1.0-test")
	files := map[string]string{
		"boot/vmlinuz-6.1.0-test":                "KERNEL",
		"lib/modules/6.1.0-test/modules.dep":     "kernel/a.ko: kernel/b.ko\nkernel/b.ko:\nkernel/c.ko:\n",
		"lib/modules/6.1.0-test/modules.alias":   "alias x:* a\n",
		"lib/modules/6.1.0-test/modules.builtin": "",
		"lib/modules/6.1.0-test/kernel/a.ko":     "A",
		"lib/modules/6.1.0-test/kernel/b.ko":     "B",
		"lib/modules/6.1.0-test/kernel/c.ko":     "C",
	}
	for name, body := range files {
		p := filepath.Join(k.Dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tree := t.TempDir()
	if err := k.Tree(tree, "a"); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"arch/x86/boot/bzImage": "KERNEL", "lib/modules/6.1.0-test/kernel/a.ko": "A", "lib/modules/6.1.0-test/kernel/b.ko": "B"} {
		if b, err := os.ReadFile(filepath.Join(tree, name)); err != nil || string(b) != want {
			t.Errorf("%s: %q, %v; want %q", name, b, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(tree, "lib/modules/6.1.0-test/kernel/c.ko")); err == nil {
		t.Error("c.ko, which nothing asked for, is in the tree")
	}
}
