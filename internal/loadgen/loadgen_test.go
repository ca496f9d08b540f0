package loadgen

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-hq/switchboard/internal/storetest"
)

func TestPercentilesAreNearestRankOrderStatistics(t *testing.T) {
	samples := make([]time.Duration, 100)
	for i := range samples {
		samples[i] = time.Duration(100-i) * time.Millisecond // 100 ms … 1 ms, unsorted
	}
	d := Summarize(samples)
	want := Distribution{N: 100, Min: time.Millisecond, P50: 50 * time.Millisecond, P95: 95 * time.Millisecond,
		P99: 99 * time.Millisecond, Max: 100 * time.Millisecond, Mean: 50500 * time.Microsecond}
	if d != want {
		t.Fatalf("Summarize = %+v, want %+v", d, want)
	}
	one := []time.Duration{7}
	if got := Percentile(one, 99); got != 7 {
		t.Fatalf("p99 of one sample = %v", got)
	}
	if got := Summarize(nil); got.N != 0 {
		t.Fatalf("Summarize(nil) = %+v", got)
	}
}

func TestTheLoadGeneratorRefusesServersOffLoopback(t *testing.T) {
	for _, u := range []string{"http://10.0.0.1:8080", "http://example.com", "ftp://127.0.0.1/"} {
		if _, err := CheckLoopback(u); err == nil {
			t.Errorf("CheckLoopback(%q) accepted it", u)
		}
	}
	for _, u := range []string{"http://127.0.0.1:8080", "http://[::1]:80", "http://localhost:9000"} {
		if _, err := CheckLoopback(u); err != nil {
			t.Errorf("CheckLoopback(%q): %v", u, err)
		}
	}
}

func TestFramesAreMatchedToMessagesByTheNonceInTheBody(t *testing.T) {
	frame := []byte(`{"seq":42,"kind":"message.created","conversation_id":3,"data":{"conversation":{"subject":"lg:abc:7 hi"},"message":{"id":9,"body":"lg:abc:7 hi"}}}`)
	if seq, ok := frameSeq(frame); !ok || seq != 42 {
		t.Fatalf("frameSeq = %d, %v", seq, ok)
	}
	prefix := []byte(`"body":"lg:abc:`)
	i := bytes.Index(frame, prefix)
	if n, ok := leadingInt(frame[i+len(prefix):]); !ok || n != 7 {
		t.Fatalf("nonce = %d, %v", n, ok)
	}
}

// A short real run: every message is acknowledged and reaches every agent
// socket in seq order.
func TestALoadRunAcknowledgesAndDeliversEveryMessageToEveryAgent(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real server")
	}
	srv := startServer(t, storetest.SQLite(t).URL, t.TempDir())
	rep, err := Run(t.Context(), Config{
		URL: srv.URL, AdminEmail: adminEmail, AdminPassword: adminPassword,
		Rate: 0, Concurrency: 8, Clients: 50, NewEvery: 10, Agents: 3, Messages: 300,
	})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.Print(&out)
	t.Log("\n" + out.String())
	if rep.Sent != 300 || rep.Acknowledged != 300 || len(rep.Errors) != 0 || rep.Duplicates != 0 {
		t.Errorf("sent %d, acknowledged %d, duplicates %d, errors %v", rep.Sent, rep.Acknowledged, rep.Duplicates, rep.Errors)
	}
	if rep.Ingest.N != 300 || rep.DeliveryFirst.N != 300 || rep.DeliveryAll.N != 900 {
		t.Errorf("samples: ingest %d, first delivery %d, all deliveries %d", rep.Ingest.N, rep.DeliveryFirst.N, rep.DeliveryAll.N)
	}
	if rep.Undelivered != 0 || rep.SeqGaps != 0 || rep.SeqBackwards != 0 {
		t.Errorf("undelivered %d, seq gaps %d, seq backwards %d", rep.Undelivered, rep.SeqGaps, rep.SeqBackwards)
	}
	if rep.Created < 300/10 {
		t.Errorf("only %d new requests: one message in ten comes from a brand-new client and opens one", rep.Created)
	}
}
