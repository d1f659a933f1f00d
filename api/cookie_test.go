package api

import (
	"net/http"
	"testing"
)

func TestSessionJar(t *testing.T) {
	tests := []struct {
		cookie  string
		active  int
		ids     int
		current string
	}{
		{"", 0, 0, ""},
		{"0.a", 0, 1, "a"},
		{"1.a.b", 1, 2, "b"},
		{"7.a.b", 0, 0, ""}, // a slot the jar does not hold: refused, not the first account
		{"2.a.b", 0, 0, ""},
		{"-1.a", 0, 0, ""},
		{"x.a.b", 0, 0, ""},
		{"01.a.b", 0, 0, ""},
		{"+1.a.b", 0, 0, ""},
		{"0", 0, 0, ""},
		{"4.a.b.c.d.e", 4, MaxAccounts, "e"},
		{"5.a.b.c.d.e.f.g", 0, 0, ""}, // more accounts than we ever write
	}
	for _, tt := range tests {
		t.Run(tt.cookie, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "/", nil)
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: SessionCookie, Value: tt.cookie})
			}
			j := parseJar(r)
			if j.active != tt.active || len(j.ids) != tt.ids || j.current() != tt.current {
				t.Fatalf("jar = %+v, current %q", j, j.current())
			}
		})
	}
	j := sessionJar{}.with("a").with("b").with("a")
	if len(j.ids) != 2 || j.current() != "a" {
		t.Fatalf("with: %+v", j)
	}
	j = j.without("a")
	if len(j.ids) != 1 || j.current() != "b" {
		t.Fatalf("without: %+v", j)
	}
}

func FuzzParseJar(f *testing.F) {
	f.Add("1.a.b")
	f.Add("")
	f.Add("99999999999999999999.x")
	f.Fuzz(func(t *testing.T, v string) {
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", SessionCookie+"="+v)
		j := parseJar(r)
		if len(j.ids) > MaxAccounts || (len(j.ids) > 0 && (j.active < 0 || j.active >= len(j.ids))) {
			t.Fatalf("%q parsed to %+v", v, j)
		}
		_ = j.current()
	})
}
