// build.mjs bundles the web app into dist/ with esbuild: one hashed JS
// bundle, one hashed CSS file and an index.html that names them, so the Go
// server can cache assets forever and index.html never. Modules loaded with
// a dynamic import() (hls.js, for the on-demand player) become hashed chunks
// of their own, fetched only when a page needs them.
//
//   node build.mjs          production build into dist/
//   node build.mjs --test   bundle src/**/*.test.ts into dist-test/ for node --test
import * as esbuild from "esbuild";
import { readFile, readdir, rm, writeFile, mkdir } from "node:fs/promises";
import { gzipSync, constants as zlib } from "node:zlib";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(root, "dist");

async function cleanDist() {
  await mkdir(dist, { recursive: true });
  for (const name of await readdir(dist)) {
    if (name !== ".keep") await rm(path.join(dist, name), { recursive: true, force: true });
  }
}

async function buildApp() {
  await cleanDist();
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { app: "src/main.tsx" },
    bundle: true,
    minify: true,
    sourcemap: "linked",
    format: "esm",
    splitting: true,
    target: ["chrome100", "firefox100", "safari15"],
    jsx: "automatic",
    jsxImportSource: "preact",
    outdir: path.join(dist, "assets"),
    entryNames: "[name]-[hash]",
    chunkNames: "chunk-[hash]",
    assetNames: "[name]-[hash]",
    loader: { ".svg": "file", ".woff2": "file" },
    metafile: true,
    legalComments: "linked",
    logLevel: "warning",
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => path.relative(dist, path.join(root, p)));
  const entry = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint === "src/main.tsx")?.[0];
  const js = entry && path.relative(dist, path.join(root, entry));
  const css = outputs.find((p) => p.endsWith(".css"));
  if (!js || !css) throw new Error(`build: missing bundle in ${outputs.join(", ")}`);
  let html = await readFile(path.join(root, "src", "index.html"), "utf8");
  html = html.replace("%APP_JS%", "/" + js).replace("%APP_CSS%", "/" + css);
  await writeFile(path.join(dist, "index.html"), html);
  await writeFile(path.join(dist, "favicon.svg"), await readFile(path.join(root, "src", "favicon.svg")));
  // Pre-compressed copies: the Go server sends them to clients that accept gzip.
  for (const p of outputs.filter((o) => o.endsWith(".js") || o.endsWith(".css"))) {
    const full = path.join(dist, p);
    await writeFile(full + ".gz", gzipSync(await readFile(full), { level: zlib.Z_BEST_COMPRESSION }));
  }
  const size = (p) => result.metafile.outputs[path.relative(root, path.join(dist, p))]?.bytes ?? 0;
  console.log(`webapp: dist/${js} ${(size(js) / 1024).toFixed(0)} KiB, dist/${css} ${(size(css) / 1024).toFixed(0)} KiB`);
}

async function buildTests() {
  const dir = path.join(root, "src");
  const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith(".test.ts"));
  const out = path.join(root, "dist-test");
  await rm(out, { recursive: true, force: true });
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: files.map((f) => path.join("src", f)),
    bundle: true,
    platform: "node",
    format: "esm",
    outdir: out,
    outExtension: { ".js": ".mjs" },
    logLevel: "warning",
  });
}

if (process.argv.includes("--test")) await buildTests();
else await buildApp();
