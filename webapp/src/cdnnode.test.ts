import { test } from "node:test";
import assert from "node:assert/strict";
import { nodeLabel, selectable, type CdnNode } from "./cdnnode";

const n = (over: Partial<CdnNode>): CdnNode => ({ id: "n1", name: "paris", mode: "shared", state: "up", ...over });

test("nodeLabel shows name, mode, health and has-item", () => {
  assert.equal(nodeLabel(n({ health: { load1: 0.25 } })), "paris (shared, load 0.3)");
  assert.equal(nodeLabel(n({ mode: "local", has_item: 1 })), "paris (your own node, has this item)");
  assert.equal(nodeLabel(n({ state: "down", has_item: 0.5 })), "paris (shared, down, has 50%)");
  assert.equal(nodeLabel(n({ has_item: 0 })), "paris (shared, does not have this item)");
});

test("only nodes that are up may be picked", () => {
  assert.equal(selectable(n({})), true);
  assert.equal(selectable(n({ state: "down" })), false);
});
