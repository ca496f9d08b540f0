package fakeapi

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Fixture returns a copy of fixtures/name from the fake's embedded fixtures;
// it panics on an unknown name, naming the fake's package pkg.
func Fixture(fixtures embed.FS, pkg, name string) []byte {
	b, err := fixtures.ReadFile("fixtures/" + name)
	if err != nil {
		panic(pkg + ": no fixture " + name)
	}
	return b
}

// WriteJSON answers status with body as contentType, the JSON media type
// the platform names (some add a charset).
func WriteJSON(w http.ResponseWriter, contentType string, status int, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// File is a file a fake serves, as a platform's CDN would.
type File struct {
	ContentType string
	Data        []byte
}

// NewFile is a File of a copy of data, so that the test may reuse data.
func NewFile(contentType string, data []byte) File {
	return File{ContentType: contentType, Data: append([]byte(nil), data...)}
}

// Serve writes the file with its Content-Type and Content-Length.
func (f File) Serve(w http.ResponseWriter) {
	w.Header().Set("Content-Type", f.ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(f.Data)))
	_, _ = w.Write(f.Data)
}

// Files are the files a fake serves by name. The zero value is empty and
// ready. It is safe for concurrent use: it has its own lock, which a fake
// may take while holding its Base's.
type Files struct {
	mu     sync.Mutex
	byName map[string]File
}

// Add serves file under name.
func (fs *Files) Add(name string, file File) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.byName == nil {
		fs.byName = map[string]File{}
	}
	fs.byName[name] = file
}

// Get is the file named name, if there is one.
func (fs *Files) Get(name string) (File, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	file, ok := fs.byName[name]
	return file, ok
}

// Serve writes the file named name and reports whether there is one (when
// not, the caller answers as its platform does).
func (fs *Files) Serve(w http.ResponseWriter, name string) bool {
	file, ok := fs.Get(name)
	if ok {
		file.Serve(w)
	}
	return ok
}

// hookClient posts webhooks; the timeout keeps a hung receiver from hanging
// the test.
var hookClient = &http.Client{Timeout: 30 * time.Second}

// PostHook POSTs a webhook body to hookURL as a platform does: JSON, with the
// platform's headers (a header with an empty value is left out, and one may
// name another Content-Type). The caller closes the response body.
func PostHook(ctx context.Context, hookURL string, body []byte, header map[string]string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hookURL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	return hookClient.Do(req)
}

// HMAC is the lowercase hex HMAC-SHA256 of data under key, with which the
// platforms sign webhook bodies (and Meta proves an app's token).
func HMAC(key string, data []byte) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write(data)
	return hex.EncodeToString(mac.Sum(nil))
}
