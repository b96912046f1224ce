package e2e

import (
	"bytes"
	"errors"
	"image/png"
	"os"
	"path/filepath"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// UpdateScreenshotsEnv set to 1 makes SaveScreenshots write its PNGs into
// the repository's docs/screenshots (run it by hand; CI never sets it).
const UpdateScreenshotsEnv = "STEPGATE_UPDATE_SCREENSHOTS"

// A Viewport is a window size the pages are shown at.
type Viewport struct {
	Name          string // for file names: "desktop", "phone"
	Width, Height int64  // CSS pixels
	Mobile        bool   // a phone: the viewport meta tag applies, overlay scroll bars
}

// The widths the pages are made for.
var (
	Desktop = Viewport{Name: "desktop", Width: 1280, Height: 800}
	Phone   = Viewport{Name: "phone", Width: 390, Height: 844, Mobile: true}
)

// SetViewport resizes the tab's viewport (device scale factor 1).
func (c *Chrome) SetViewport(v Viewport) {
	c.t.Helper()
	if _, err := call(c, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: v.Width, Height: v.Height, DeviceScaleFactor: 1, Mobile: v.Mobile,
	}); err != nil {
		c.t.Fatalf("setting the viewport to %s: %v", v.Name, err)
	}
	c.mu.Lock()
	c.viewport = v
	c.mu.Unlock()
}

// SetColorScheme makes the page see prefers-color-scheme: "light" or
// "dark".
func (c *Chrome) SetColorScheme(scheme string) {
	c.t.Helper()
	if scheme != "light" && scheme != "dark" {
		c.t.Fatalf("color scheme %q: want light or dark", scheme)
	}
	if _, err := call(c, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	}); err != nil {
		c.t.Fatalf("emulating %s: %v", scheme, err)
	}
	c.mu.Lock()
	c.scheme = scheme
	c.mu.Unlock()
}

// ColorScheme is the prefers-color-scheme the page sees.
func (c *Chrome) ColorScheme() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.scheme
}

// Screenshot is a PNG of the whole page (beyond the viewport's height if
// the page is longer) at the current viewport.
func (c *Chrome) Screenshot() []byte {
	c.t.Helper()
	b, err := runAction(c, chromedp.FullScreenshot(100))
	if err != nil {
		c.t.Fatalf("screenshot: %v", err)
	}
	return b
}

// SaveScreenshots takes a screenshot of the page at desktop and at phone
// width and checks each is a PNG of that width. With
// STEPGATE_UPDATE_SCREENSHOTS=1 it writes them to the repository as
// docs/screenshots/<name>-desktop.png and <name>-phone.png. The viewport is
// the one it had before afterwards.
func (c *Chrome) SaveScreenshots(name string) {
	c.t.Helper()
	c.mu.Lock()
	before := c.viewport
	c.mu.Unlock()
	defer c.SetViewport(before)
	for _, v := range []Viewport{Desktop, Phone} {
		c.SetViewport(v)
		shot := c.Screenshot()
		cfg, err := png.DecodeConfig(bytes.NewReader(shot))
		if err != nil || int64(cfg.Width) != v.Width {
			c.t.Fatalf("%s screenshot of %s: %d px wide, want %d (%v)", v.Name, name, cfg.Width, v.Width, err)
		}
		if os.Getenv(UpdateScreenshotsEnv) != "1" {
			continue
		}
		dir, err := screenshotDir()
		if err != nil {
			c.t.Fatal(err)
		}
		file := filepath.Join(dir, name+"-"+v.Name+".png")
		if err := os.WriteFile(file, shot, 0o644); err != nil {
			c.t.Fatal(err)
		}
		c.t.Logf("wrote %s", file)
	}
}

// screenshotDir is docs/screenshots of the repository the test runs in
// (found from the working directory, a package directory, up to go.mod).
func screenshotDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			d := filepath.Join(dir, "docs", "screenshots")
			return d, os.MkdirAll(d, 0o755)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// clipShot is a PNG of a region of the page, in CSS pixels from the
// document's top left.
func (c *Chrome) clipShot(x, y, w, h float64) ([]byte, error) {
	r, err := call(c, page.CaptureScreenshot, page.CaptureScreenshotParams{
		Format: page.CaptureScreenshotFormatPng,
		Clip:   &page.Viewport{X: x, Y: y, Width: w, Height: h, Scale: 1},
	})
	return r.Data, err
}
