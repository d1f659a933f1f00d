import { test } from "node:test";
import assert from "node:assert/strict";
import { match } from "./router";

test("match", async (t) => {
  const cases: [string, string, Record<string, string>][] = [
    ["/", "library", {}],
    ["/library", "library", {}],
    ["/signin", "signin", {}],
    ["/items/42", "item", { id: "42" }],
    ["/items/abc", "notfound", {}],
    ["/watch/42", "watch", { id: "42" }],
    ["/watch/x", "notfound", {}],
    ["/party/7", "party", { id: "7" }],
    ["/join/AbC-_.x%2Fy", "join", { token: "AbC-_.x/y" }],
    ["/join/", "notfound", {}],
    ["/downloads", "downloads", {}],
    ["/nope", "notfound", {}],
    ["/admin/optimize", "optimize", {}],
    ["/admin/cdn", "cdnnodes", {}],
  ];
  for (const [path, name, params] of cases) {
    await t.test(path, () => {
      const r = match(path);
      assert.equal(r.name, name);
      assert.deepEqual(r.params, params);
    });
  }
  await t.test("query", () => assert.equal(match("/signin", "?next=%2Fparty%2F1").query.get("next"), "/party/1"));
});
