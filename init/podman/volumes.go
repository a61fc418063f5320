package podman

import (
	"context"
	"fmt"

	"github.com/containers/podman/v4/pkg/bindings/containers"
	"github.com/containers/podman/v4/pkg/bindings/volumes"
	"github.com/containers/podman/v4/pkg/domain/entities"
)

// ExpirationLabel marks the volumes that b2c removes at the end of the
// pipeline (b2c.volume expiration=pipeline_end). It is a podman label, so
// that a volume left by a power loss is still found at the next boot.
const ExpirationLabel = "b2c.expiration"

// EnsureVolume creates the volume name unless it exists. A non-empty dir
// makes it a bind of that directory (a volume on a b2c.filesystem).
func (e *Engine) EnsureVolume(parent context.Context, name, dir, expiration string) error {
	ctx, cancel := e.ctx(parent)
	defer cancel()
	ok, err := volumes.Exists(ctx, name, nil)
	if err != nil {
		return fmt.Errorf("volume %s: %w", name, err)
	}
	if ok {
		return nil
	}
	opts := entities.VolumeCreateOptions{Name: name, Labels: map[string]string{ExpirationLabel: expiration}}
	if dir != "" {
		opts.Options = map[string]string{"type": "none", "o": "bind", "device": dir}
	}
	if _, err := volumes.Create(ctx, opts, nil); err != nil {
		return fmt.Errorf("create volume %s: %w", name, err)
	}
	return nil
}

// RemoveExpired removes the volumes labelled to expire at the pipeline's
// end, and returns their names.
func (e *Engine) RemoveExpired(parent context.Context) ([]string, error) {
	ctx, cancel := e.ctx(parent)
	defer cancel()
	list, err := volumes.List(ctx, new(volumes.ListOptions).WithFilters(map[string][]string{
		"label": {ExpirationLabel + "=pipeline_end"}}))
	if err != nil {
		return nil, fmt.Errorf("list expired volumes: %w", err)
	}
	var removed []string
	for _, v := range list {
		if err := volumes.Remove(ctx, v.Name, new(volumes.RemoveOptions).WithForce(true)); err != nil {
			return removed, fmt.Errorf("remove volume %s: %w", v.Name, err)
		}
		removed = append(removed, v.Name)
	}
	return removed, nil
}

// PruneContainers removes the stopped containers: on a cache, they would
// otherwise pile up boot after boot.
func (e *Engine) PruneContainers(parent context.Context) error {
	ctx, cancel := e.ctx(parent)
	defer cancel()
	if _, err := containers.Prune(ctx, nil); err != nil {
		return fmt.Errorf("remove stopped containers: %w", err)
	}
	return nil
}

// VolumeDir returns the directory that holds a volume's files, for the
// mirror to read and write: the bound directory of a volume on a
// b2c.filesystem (podman mounts it only while a container runs), else
// podman's mount point.
func (e *Engine) VolumeDir(parent context.Context, name string) (string, error) {
	ctx, cancel := e.ctx(parent)
	defer cancel()
	v, err := volumes.Inspect(ctx, name, nil)
	if err != nil {
		return "", fmt.Errorf("volume %s: %w", name, err)
	}
	if dev := v.Options["device"]; dev != "" && v.Options["o"] == "bind" {
		return dev, nil
	}
	return v.Mountpoint, nil
}
