package modules

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	var byName, byPath []string
	l := Loader{
		ByName: func(n string) error {
			byName = append(byName, n)
			if n == "missing" {
				return errors.New("not found")
			}
			return nil
		},
		ByPath: func(p string) error { byPath = append(byPath, p); return nil },
	}
	errs := l.Load([]string{"virtio_net", "missing", "/lib/extra/x.ko", "e1000"})
	if !reflect.DeepEqual(byName, []string{"virtio_net", "missing", "e1000"}) || !reflect.DeepEqual(byPath, []string{"/lib/extra/x.ko"}) {
		t.Errorf("loaded by name %q, by path %q", byName, byPath)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "missing") {
		t.Errorf("errors = %v, want one naming missing", errs)
	}
}
