package ok

import (
	"net/url"
	"time"
)

// SetReadyWaits replaces the pauses before resending an attachment that OK
// is still processing.
func SetReadyWaits(o *OK, waits ...time.Duration) { o.readyWaits = waits }

// MediaHostAllowed exposes the download allow-list.
func MediaHostAllowed(o *OK, raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && o.mediaHostAllowed(u)
}
