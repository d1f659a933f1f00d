import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ackPending,
  afterCheckin,
  afterRevoked,
  aggregate,
  dropCopy,
  emptyIndex,
  fileName,
  isExpired,
  listCopies,
  parseContentRange,
  parseIndex,
  phaseOf,
  planResume,
  putCopy,
  recordPosition,
  resumeAt,
  resumeHeaders,
  type OfflineCopy,
} from "./logic";

function copy(itemId: number, over: Partial<OfflineCopy> = {}): OfflineCopy {
  return {
    itemId,
    jobId: "j1",
    title: `Item ${itemId}`,
    kind: "movie",
    filename: `Item ${itemId}.mp4`,
    profile: "480p",
    file: fileName(itemId, "480p"),
    size: 1000,
    bytes: 0,
    state: "downloading",
    expiresAt: "2026-12-31T00:00:00Z",
    durationMs: 90_000,
    positionMs: 0,
    storedAt: itemId,
    ...over,
  };
}

test("resume headers", () => {
  assert.deepEqual(resumeHeaders(0, '"abc"'), {});
  assert.deepEqual(resumeHeaders(600, '"abc"'), { Range: "bytes=600-", "If-Range": '"abc"' });
  // a weak validator may not be used in If-Range (RFC 9110 §13.1.5)
  assert.deepEqual(resumeHeaders(600, 'W/"abc"'), { Range: "bytes=600-" });
  assert.deepEqual(resumeHeaders(600), { Range: "bytes=600-" });
});

test("content range", () => {
  assert.deepEqual(parseContentRange("bytes 600-999/1000"), { first: 600, last: 999, complete: 1000 });
  assert.deepEqual(parseContentRange("bytes */1000"), { complete: 1000 });
  assert.deepEqual(parseContentRange("bytes 0-9/*"), { first: 0, last: 9 });
  assert.equal(parseContentRange("bytes 9-0/10"), null);
  assert.equal(parseContentRange("items 0-9/10"), null);
  assert.equal(parseContentRange(null), null);
});

test("plan a resume from the response", async (t) => {
  await t.test("206 at the stored offset appends", () =>
    assert.deepEqual(planResume(600, { status: 206, contentRange: "bytes 600-999/1000" }), { action: "append", offset: 600, total: 1000 }));
  await t.test("206 elsewhere is refused, never spliced", () => assert.equal(planResume(600, { status: 206, contentRange: "bytes 0-999/1000" }).action, "error"));
  await t.test("206 without Content-Range is refused", () => assert.equal(planResume(600, { status: 206 }).action, "error"));
  await t.test("200 (If-Range did not match) restarts", () =>
    assert.deepEqual(planResume(600, { status: 200, contentLength: "1200" }), { action: "restart", total: 1200 }));
  await t.test("416 with everything stored completes", () =>
    assert.deepEqual(planResume(1000, { status: 416, contentRange: "bytes */1000" }), { action: "complete", total: 1000 }));
  await t.test("416 with a different length restarts", () => assert.equal(planResume(1000, { status: 416, contentRange: "bytes */900" }).action, "restart"));
  await t.test("401 tells what to do", () => {
    const p = planResume(0, { status: 401 });
    assert.equal(p.action, "error");
    assert.match((p as { message: string }).message, /retry/);
  });
});

test("phases and totals", () => {
  assert.deepEqual(phaseOf({ state: "queued", progress: 0 }), { label: "queued", preparing: 0, download: 0 });
  assert.deepEqual(phaseOf({ state: "preparing", progress: 0.4 }), { label: "preparing", preparing: 0.4, download: 0 });
  assert.deepEqual(phaseOf({ state: "ready", progress: 1, size: 1000 }, { bytes: 250, size: 1000, state: "downloading" }), {
    label: "downloading",
    preparing: 1,
    download: 0.25,
  });
  assert.equal(phaseOf({ state: "ready", progress: 1, size: 1000 }, { bytes: 1000, size: 1000, state: "complete" }).label, "stored");
  assert.equal(phaseOf({ state: "failed", progress: 0.5 }).label, "failed");
  assert.equal(phaseOf({ state: "preparing", progress: NaN }).preparing, 0);

  const t = aggregate([
    { phase: { label: "stored", preparing: 1, download: 1 }, size: 3000, bytes: 3000 },
    { phase: { label: "downloading", preparing: 1, download: 0.5 }, size: 1000, bytes: 500 },
  ]);
  assert.equal(t.stored, 1);
  assert.equal(t.preparing, 1);
  assert.equal(t.size, 4000);
  assert.equal(t.download, 3500 / 4000); // weighted by bytes, not a mean of 1 and 0.5
  const unsized = aggregate([
    { phase: { label: "preparing", preparing: 0.5, download: 0 } },
    { phase: { label: "stored", preparing: 1, download: 1 }, size: 10, bytes: 10 },
  ]);
  assert.equal(unsized.preparing, 0.75);
  assert.equal(unsized.download, 0.5);
  assert.equal(aggregate([]).download, 0);
});

test("expiry", () => {
  const now = Date.parse("2026-12-07T12:00:00Z");
  assert.equal(isExpired({ expiresAt: "2026-12-08T00:00:00Z" }, now), false);
  assert.equal(isExpired({ expiresAt: "2026-12-07T12:00:00Z" }, now), true);
  assert.equal(isExpired({ expiresAt: "2026-12-01T00:00:00Z" }, now), true);
  assert.equal(isExpired({ expiresAt: "garbage" }, now), true);
  assert.equal(isExpired({ expiresAt: "2027-01-01T00:00:00Z", revoked: true }, now), true);

  let idx = putCopy(emptyIndex(), copy(1, { expiresAt: "2026-12-01T00:00:00Z" }));
  idx = afterCheckin(idx, "2027-01-06T12:00:00Z");
  assert.equal(isExpired(idx.copies["1"], now), false, "a check-in renews an expired copy");
  idx = afterRevoked(idx);
  assert.equal(isExpired(idx.copies["1"], now), true, "a revoked device's copies do not play");
  idx = afterCheckin(idx, "2027-01-06T12:00:00Z");
  assert.equal(isExpired(idx.copies["1"], now), false);
});

test("offline index", async (t) => {
  await t.test("round trip and order", () => {
    let idx = putCopy(emptyIndex(), copy(1));
    idx = putCopy(idx, copy(2));
    const back = parseIndex(JSON.stringify(idx));
    assert.deepEqual(back, idx);
    assert.deepEqual(
      listCopies(back).map((c) => c.itemId),
      [2, 1],
    );
  });
  await t.test("unreadable index starts over", () => {
    assert.deepEqual(parseIndex("{"), emptyIndex());
    assert.deepEqual(parseIndex('{"version":2}'), emptyIndex());
    assert.deepEqual(parseIndex(null), emptyIndex());
    assert.deepEqual(parseIndex('{"version":1,"copies":{"x":{"title":"no id"}},"pending":[null]}'), emptyIndex());
  });
  await t.test("file names come from numbers only", () => {
    assert.equal(fileName(7, "480p"), "item-7-480p.mp4");
    assert.equal(fileName(7.9, "../x" as never), "item-7-x.mp4");
  });
  await t.test("progress queue: latest per item, ack keeps newer", () => {
    let idx = putCopy(emptyIndex(), copy(1));
    idx = recordPosition(idx, 1, 10_000, 90_000, 100);
    idx = recordPosition(idx, 1, 20_000, 90_000, 200);
    assert.equal(idx.copies["1"].positionMs, 20_000);
    assert.equal(idx.pending.length, 1);
    const sent = idx.pending[0];
    idx = recordPosition(idx, 1, 30_000, 90_000, 300); // recorded while the PUT was out
    idx = ackPending(idx, sent);
    assert.deepEqual(idx.pending, [{ itemId: 1, positionMs: 30_000, durationMs: 90_000, at: 300 }]);
    idx = ackPending(idx, idx.pending[0]);
    assert.deepEqual(idx.pending, []);
  });
  await t.test("remove drops its pending progress", () => {
    let idx = recordPosition(putCopy(emptyIndex(), copy(1)), 1, 9000, 90_000, 1);
    idx = dropCopy(idx, 1);
    assert.deepEqual(idx, emptyIndex());
  });
});

test("resume position", () => {
  assert.equal(resumeAt({ positionMs: 40_000, durationMs: 90_000 }), 40_000);
  assert.equal(resumeAt({ positionMs: 3000, durationMs: 90_000 }), 0);
  assert.equal(resumeAt({ positionMs: 89_000, durationMs: 90_000 }), 0);
  assert.equal(resumeAt({ positionMs: 40_000, durationMs: 0 }), 40_000);
});
