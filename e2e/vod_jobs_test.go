package e2e

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestVODJobFromWebApp: an admin sees "Optimize…" on an episode's page,
// opens the Optimize page from the library's "Optimize Shows…" link,
// chooses 240p and starts a job for the show library (two 30 s episodes);
// the job's progress bar and each item's follow the job's event stream to
// 100%, and the job has encoded every segment of both episodes.
func TestVODJobFromWebApp(t *testing.T) {
	st, loginLink := startStackWith(t, stackOptions{noIngest: true})
	b := StartChrome(t)
	admin := newPerson(t, b, "admin", 1280, 900)
	checkPasswordPrompt(t, admin, loginLink)
	act(admin, "scan Shows", 10*time.Second, chromedp.Click(chromedp.CSS(`button[aria-label="Scan library Shows"]`)))
	waitFor(admin, "Shows scanned", `!document.querySelector(".scans button[disabled]")`, 60*time.Second)

	var episode int
	mustEval(admin, `fetch("/api/items?kind=episode").then(r => r.json()).then(d => d.items[0]?.id ?? 0)`, &episode)
	if episode == 0 {
		t.Fatal("no episode in the library")
	}
	act(admin, "open an episode", 20*time.Second, chromedp.Navigate(fmt.Sprintf("%s/items/%d", st.APIURL, episode)))
	waitFor(admin, "the episode's Optimize link", fmt.Sprintf(`document.querySelector("a.optimize-link")?.getAttribute("href") === "/admin/optimize?items=%d"`, episode), 20*time.Second)

	act(admin, "back to the library", 20*time.Second, chromedp.Navigate(st.APIURL+"/"))
	const link = `[...document.querySelectorAll("a.optimize-link")].find(a => a.textContent.includes("Optimize Shows"))`
	waitFor(admin, "the library's Optimize link", "!!"+link, 20*time.Second)
	mustEval(admin, link+".click()", nil)
	waitFor(admin, "the Optimize page", `!!document.querySelector(".optimize-page form") && document.querySelector("select[aria-label='Library to optimize']")?.selectedOptions[0]?.textContent === "Shows"`, 20*time.Second)
	act(admin, "choose 240p only", 10*time.Second,
		chromedp.Click(chromedp.CSS(`input[value="720p"]`)),
		chromedp.Click(chromedp.CSS(`input[value="480p"]`)),
		chromedp.Click(chromedp.CSS(`input[value="240p"]`)),
		chromedp.Click(chromedp.CSS(`.optimize-form button[type=submit]`)))

	const bar = `document.querySelector("[data-testid^=job-] > [role=progressbar]")`
	waitFor(admin, "the job under way", fmt.Sprintf(`Number(%s?.getAttribute("aria-valuenow")) > 0`, bar), 60*time.Second)
	var mid int
	mustEval(admin, fmt.Sprintf(`Number(%s.getAttribute("aria-valuenow"))`, bar), &mid)
	admin.Screenshot("vodjobs-under-way")
	t.Logf("progress bar at %d%% when first seen moving", mid)
	waitFor(admin, "the job at 100%", fmt.Sprintf(`%s?.getAttribute("aria-valuenow") === "100" && !!document.querySelector("[data-testid^=job-] .badge.state-done")`, bar), 3*time.Minute)
	// The bars animate their width: the screenshot waits until they are drawn full.
	waitFor(admin, "the bars drawn full", `[...document.querySelectorAll("[data-testid^=job-] [role=progressbar]")].every(b => b.firstElementChild.getBoundingClientRect().width >= b.getBoundingClientRect().width - 1)`, 10*time.Second)
	admin.Screenshot("vodjobs-done")

	var items []string
	mustEval(admin, `[...document.querySelectorAll(".job-item [role=progressbar]")].map(b => b.getAttribute("aria-valuenow"))`, &items)
	if len(items) != 2 || items[0] != "100" || items[1] != "100" {
		t.Fatalf("item progress bars %v, want two at 100", items)
	}
	var job struct {
		State   string `json:"state"`
		Total   int    `json:"total"`
		Done    int    `json:"done"`
		Encoded int    `json:"encoded"`
		Items   []struct {
			State      string   `json:"state"`
			Renditions []string `json:"renditions"`
		} `json:"items"`
	}
	mustEval(admin, `fetch("/api/admin/vod/jobs").then(r => r.json()).then(d => d.jobs[0])`, &job)
	// Two 30 s episodes in 4 s segments: 8 segments and an init segment
	// each, for 240p and for the audio rendition (ticked by default).
	if job.State != "done" || job.Total != 36 || job.Done != 36 || job.Encoded != 36 || len(job.Items) != 2 ||
		job.Items[0].State != "done" || !slices.Contains(job.Items[0].Renditions, "240p") ||
		!slices.Contains(job.Items[0].Renditions, "a1") || len(job.Items[0].Renditions) != 2 {
		t.Fatalf("job %+v, want both episodes' 240p and audio encoded: 36 of 36", job)
	}
}
