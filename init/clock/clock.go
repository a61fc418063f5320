// Package clock sets the system clock from an NTP server, since board RTCs
// start in 1970 and TLS needs a correct time. A failure is a warning: the
// run goes on with the clock it has.
package clock

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/beevik/ntp"
)

// Query asks server for the time, trying a few times with a short timeout
// each, and returns the offset to apply to the local clock.
func Query(ctx context.Context, server string, tries int, timeout time.Duration) (time.Duration, error) {
	var err error
	for i := 0; i < tries; i++ {
		var r *ntp.Response
		r, err = ntp.QueryWithOptions(server, ntp.QueryOptions{Timeout: timeout})
		if err == nil {
			if err = r.Validate(); err == nil {
				return r.ClockOffset, nil
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	return 0, fmt.Errorf("ntp %s: %w", server, err)
}

// Peer returns the NTP server to ask: the configured one (b2c.ntp_peer),
// or for "auto" the first one the DHCP server offered, else pool.ntp.org.
func Peer(configured string, offered []net.IP) string {
	if configured != "auto" {
		return configured
	}
	if len(offered) > 0 {
		return offered[0].String()
	}
	return "pool.ntp.org"
}
