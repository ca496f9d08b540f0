package widget

import (
	"bytes"
	"compress/gzip"
	"testing"
)

func gzipSize(t *testing.T, b []byte) int {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Len()
}

func TestTheCommittedDistFilesMatchAFreshBuildOfSrc(t *testing.T) {
	loader, chat, err := Build("src")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		name         string
		fresh, built []byte
	}{
		{"dist/loader.js", loader, Loader()},
		{"dist/chat.js", chat, Chat()},
	} {
		if !bytes.Equal(f.fresh, f.built) {
			t.Errorf("web/widget/%s differs from a fresh build of web/widget/src: run `go generate ./web/widget` and commit the result", f.name)
		}
	}
}

func TestTheBuildIsDeterministic(t *testing.T) {
	l1, c1, err := Build("src")
	if err != nil {
		t.Fatal(err)
	}
	l2, c2, err := Build("./src/")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(l1, l2) || !bytes.Equal(c1, c2) {
		t.Error("two builds of the same sources differ")
	}
}

func TestTheLoaderIsAtMost4KBGzipped(t *testing.T) {
	n := gzipSize(t, Loader())
	t.Logf("loader: %d bytes minified, %d bytes gzipped", len(Loader()), n)
	if n > 4096 {
		t.Errorf("the loader is %d bytes gzipped, over the 4096-byte budget", n)
	}
}

func TestLoaderPlusChatAreAtMost20KBGzipped(t *testing.T) {
	l, c := gzipSize(t, Loader()), gzipSize(t, Chat())
	t.Logf("chat: %d bytes minified, %d bytes gzipped; loader + chat: %d bytes gzipped", len(Chat()), c, l+c)
	if l+c > 20480 {
		t.Errorf("loader + chat are %d bytes gzipped, over the 20480-byte budget", l+c)
	}
}

func TestTheLoaderContainsTheChatURLPlaceholderExactlyOnce(t *testing.T) {
	if n := bytes.Count(Loader(), []byte(ChatURLPlaceholder)); n != 1 {
		t.Errorf("the loader contains %q %d times, want exactly once (the server replaces it with the chat bundle's URL)", ChatURLPlaceholder, n)
	}
	if n := bytes.Count(Chat(), []byte(ChatURLPlaceholder)); n != 0 {
		t.Errorf("the chat bundle contains %q %d times, want none", ChatURLPlaceholder, n)
	}
}
