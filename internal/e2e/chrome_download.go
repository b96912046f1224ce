package e2e

import (
	"context"
	"os"
	"path/filepath"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// A Download is a file the browser saved.
type Download struct {
	// Name is the file name the server suggested (Content-Disposition) or
	// the browser derived from the URL.
	Name string
	// URL is where it came from.
	URL string
	// Data is the file's content.
	Data []byte
}

// ClickDownload clicks the control named name, which must start a download
// (an "Export CSV" link or button), and returns the file once the browser
// has saved all of it. Downloads go to a temporary directory of the test.
func (c *Chrome) ClickDownload(name string) Download {
	c.t.Helper()
	dir := c.t.TempDir()
	yes := true
	ctx, cancel := context.WithTimeout(c.ctx, c.Timeout)
	defer cancel()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, BrowserContextID: chromedp.FromContext(c.ctx).BrowserContextID,
		DownloadPath: dir, EventsEnabled: &yes,
	}); err != nil {
		c.t.Fatalf("allowing downloads: %v", err)
	}
	// Subscribed before the click, so no event is missed.
	begun := chromedp.BrowserEvents(ctx, browser.DownloadWillBegin)
	progress := chromedp.BrowserEvents(ctx, browser.DownloadProgress)
	c.Click(name)
	var d Download
	var guid string
	for ev, err := range begun {
		if err != nil {
			c.t.Fatalf("clicking %q started no download: %v", name, err)
		}
		if ev.FrameID == "" || ev.GUID == "" {
			continue
		}
		guid, d.Name, d.URL = ev.GUID, ev.SuggestedFilename, ev.URL
		break
	}
	for ev, err := range progress {
		if err != nil {
			c.t.Fatalf("download of %s did not finish: %v", d.URL, err)
		}
		if ev.GUID != guid {
			continue
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			c.t.Fatalf("download of %s was canceled", d.URL)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			break
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, guid))
	if err != nil {
		c.t.Fatalf("reading the download of %s: %v", d.URL, err)
	}
	d.Data = data
	return d
}
