package discordtest

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestServerCloses starts and stops the fake: Close must end every goroutine.
func TestServerCloses(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c := s.NewVoiceSession(s.Options().StageChannelID); c.Endpoint == "" || c.Token == "" {
		t.Errorf("credentials = %+v", c)
	}
	resp, err := s.HTTPClient().Get("https://discord.com/api/v9/gateway")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET gateway = %d", resp.StatusCode)
	}
	s.Close()
}
