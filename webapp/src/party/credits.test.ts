import { test } from "node:test";
import assert from "node:assert/strict";
import { trackCredits } from "./credits";

test("trackCredits", async (t) => {
  const cases: [string, Parameters<typeof trackCredits>, string][] = [
    ["the entry's credits, as a guest sees them", [{ artist: "Marquee Ensemble", album: "First Light" }, {}, "Marquee Ensemble – Dusk", "Dusk"], "Marquee Ensemble — First Light"],
    ["the entry beats the tags", [{ artist: "Entry Artist", album: "Entry Album" }, { artist: "Tag", album: "Tag Album" }, "", "Dusk"], "Entry Artist — Entry Album"],
    ["tags when the entry has none", [{ artist: "", album: "" }, { ARTIST: "Tag", ALBUM: "Tag Album" }, "", "Dusk"], "Tag — Tag Album"],
    ["the playback title as a last resort", [null, {}, "Marquee Ensemble – Dusk", "Dusk"], "Marquee Ensemble"],
    ["an artist without an album", [{ artist: "Solo" }, {}, "", "Dusk"], "Solo"],
    ["nothing known", [null, {}, "Dusk", "Dusk"], ""],
  ];
  for (const [name, args, want] of cases) {
    await t.test(name, () => assert.equal(trackCredits(...args), want));
  }
});
