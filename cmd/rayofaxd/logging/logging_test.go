package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestCallAndComponent(t *testing.T) {
	var buf bytes.Buffer
	l, err := New(&buf, "debug", "json")
	if err != nil {
		t.Fatal(err)
	}
	c := Component(Call(l, "abc-123"), "fax-1")
	c.Info("fax: page received", "page", 2, "password", "hunter2", "secret", "s3cr3t")
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m[KeyCallID] != "abc-123" || m[KeyComponentID] != "fax-1" || m["page"] != 2.0 {
		t.Fatalf("line %v", m)
	}
	if strings.Contains(buf.String(), "hunter2") || strings.Contains(buf.String(), "s3cr3t") {
		t.Fatalf("secret logged: %s", buf.String())
	}
}

func TestNewText(t *testing.T) {
	var buf bytes.Buffer
	l, err := New(&buf, "warn", "text")
	if err != nil {
		t.Fatal(err)
	}
	l.Info("hidden")
	l.Warn("shown", CallID("c1"))
	if s := buf.String(); strings.Contains(s, "hidden") || !strings.Contains(s, "call_id=c1") {
		t.Fatalf("output %q", s)
	}
	if _, err := New(&buf, "loud", "text"); err == nil {
		t.Error("bad level accepted")
	}
	if _, err := New(&buf, "info", "xml"); err == nil {
		t.Error("bad format accepted")
	}
}
