package api

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/marquee-party/marquee/downloads"
	"github.com/marquee-party/marquee/internal/cdnwire"
	"github.com/marquee-party/marquee/internal/vodjobs"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/party"
)

// TestOpenAPISchemasMatchJSON keeps the document's schemas in step with
// the JSON the handlers write: every field of the Go type is documented.
func TestOpenAPISchemasMatchJSON(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		schema string
		value  any
	}{
		{"Party", party.Party{}},
		{"InviteInfo", InviteInfo{}},
		{"Entry", party.Entry{}},
		{"WorkerState", party.WorkerState{}},
		{"Item", library.Item{}},
		{"WatchProgress", library.WatchProgress{}},
		{"InProgress", library.InProgress{}},
		{"DownloadJob", downloads.Job{}},
		{"DownloadJobItem", downloads.JobItem{}},
		{"DownloadDevice", downloads.Device{}},
		{"DownloadProfile", downloads.ProfileInfo{}},
		{"DownloadRules", downloads.Rules{}},
		{"VODJob", vodjobs.Job{}},
		{"VODJobItem", vodjobs.Item{}},
		{"CDNNode", cdnwire.NodeInfo{}},
		{"CDNRegistration", cdnwire.Registration{}},
		{"CDNChallenge", cdnwire.Challenge{}},
	} {
		t.Run(tc.schema, func(t *testing.T) {
			props := doc.Components.Schemas[tc.schema].Properties
			for _, name := range jsonFields(reflect.TypeOf(tc.value)) {
				if _, ok := props[name]; !ok {
					t.Errorf("schema %s lacks %q", tc.schema, name)
				}
			}
		})
	}
}

// jsonFields lists the JSON names of a struct's exported fields.
func jsonFields(ty reflect.Type) []string {
	var out []string
	for f := range ty.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
		case f.Anonymous && name == "":
			out = append(out, jsonFields(f.Type)...)
		case name == "":
			out = append(out, f.Name)
		default:
			out = append(out, name)
		}
	}
	return out
}
