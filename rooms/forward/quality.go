package forward

import "fmt"

// Quality names a simulcast layer. The values match LiveKit's VideoQuality
// enum (LOW=0, MEDIUM=1, HIGH=2, OFF=3) so rooms can convert directly.
type Quality int8

// Simulcast qualities, lowest first.
const (
	QualityLow    Quality = 0 // RID "q"
	QualityMedium Quality = 1 // RID "h"
	QualityHigh   Quality = 2 // RID "f"
	QualityOff    Quality = 3 // forward no video
)

// maxLayers is the number of simulcast layers a Receiver handles.
const maxLayers = 3

// String returns the layer's RID-like name.
func (q Quality) String() string {
	switch q {
	case QualityLow:
		return "low"
	case QualityMedium:
		return "medium"
	case QualityHigh:
		return "high"
	case QualityOff:
		return "off"
	}
	return fmt.Sprintf("Quality(%d)", int8(q))
}

// QualityForRID maps a simulcast RID (RFC 8851) to its layer. The empty RID
// (no simulcast) maps to QualityLow: a single-layer track is layer 0.
func QualityForRID(rid string) (Quality, error) {
	switch rid {
	case "q", "":
		return QualityLow, nil
	case "h":
		return QualityMedium, nil
	case "f":
		return QualityHigh, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrUnknownLayer, rid)
}

// Dimensions is a layer's picture size in pixels.
type Dimensions struct {
	Width, Height int
}

// defaultDimensions are Marquee ingest's layers: 180p, 360p, 720p.
var defaultDimensions = [maxLayers]Dimensions{{320, 180}, {640, 360}, {1280, 720}}

// qualityForDimensions returns the lowest layer at least as large as the
// requested size (the viewer's element), or the highest layer if none is.
// A zero size means no limit.
func qualityForDimensions(dims [maxLayers]Dimensions, w, h int) Quality {
	if w <= 0 && h <= 0 {
		return QualityHigh
	}
	for q := range maxLayers {
		if dims[q].Width >= w && dims[q].Height >= h {
			return Quality(q)
		}
	}
	return QualityHigh
}
