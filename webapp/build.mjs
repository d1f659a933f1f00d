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
import { gzipSync, deflateSync, crc32, constants as zlib } from "node:zlib";
import { createHash } from "node:crypto";
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
  await buildPWA("/" + js, "/" + css);
  // Pre-compressed copies: the Go server sends them to clients that accept gzip.
  for (const p of outputs.filter((o) => o.endsWith(".js") || o.endsWith(".css"))) {
    const full = path.join(dist, p);
    await writeFile(full + ".gz", gzipSync(await readFile(full), { level: zlib.Z_BEST_COMPRESSION }));
  }
  const size = (p) => result.metafile.outputs[path.relative(root, path.join(dist, p))]?.bytes ?? 0;
  console.log(`webapp: dist/${js} ${(size(js) / 1024).toFixed(0)} KiB, dist/${css} ${(size(css) / 1024).toFixed(0)} KiB`);
}

// buildPWA writes what makes the app installable and able to open offline:
// the web app manifest, its icons (the SVG mark and PNGs drawn here, for
// platforms that want bitmaps) and the service worker dist/sw.js, which is
// given the list of shell files to cache and a version that changes with them.
async function buildPWA(js, css) {
  await writeFile(path.join(dist, "manifest.webmanifest"), await readFile(path.join(root, "src", "manifest.webmanifest")));
  await writeFile(path.join(dist, "icon.svg"), await readFile(path.join(root, "src", "favicon.svg")));
  for (const n of [192, 512]) await writeFile(path.join(dist, `icon-${n}.png`), iconPNG(n));
  const shell = ["/", js, css, "/favicon.svg", "/icon.svg", "/icon-192.png", "/icon-512.png", "/manifest.webmanifest"];
  const version = createHash("sha256").update(shell.join("\n")).digest("hex").slice(0, 12);
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: ["src/sw.ts"],
    bundle: true,
    minify: true,
    format: "iife",
    target: ["chrome100", "firefox100", "safari15"],
    outfile: path.join(dist, "sw.js"),
    define: { __SHELL__: JSON.stringify(shell), __VERSION__: JSON.stringify(version) },
    logLevel: "warning",
  });
}

// iconPNG draws the Marquee mark (a dark play triangle on an amber rounded
// square, as in favicon.svg) into an n×n RGBA PNG.
function iconPNG(n) {
  const px = Buffer.alloc((n * 4 + 1) * n);
  const r = n * 0.22;
  const inRounded = (x, y) => {
    const cx = Math.min(Math.max(x, r), n - r), cy = Math.min(Math.max(y, r), n - r);
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
  };
  const inTriangle = (x, y) => {
    const u = x / n, v = y / n; // triangle (0.375,0.28) (0.375,0.72) (0.72,0.5)
    return u >= 0.375 && Math.abs(v - 0.5) <= (0.72 - u) * (0.22 / 0.345);
  };
  for (let y = 0; y < n; y++) {
    px[y * (n * 4 + 1)] = 0; // filter: none
    for (let x = 0; x < n; x++) {
      const o = y * (n * 4 + 1) + 1 + x * 4;
      const [cr, cg, cb, ca] = !inRounded(x + 0.5, y + 0.5) ? [0, 0, 0, 0] : inTriangle(x + 0.5, y + 0.5) ? [0x14, 0x15, 0x1b, 255] : [0xf5, 0xc4, 0x51, 255];
      px[o] = cr; px[o + 1] = cg; px[o + 2] = cb; px[o + 3] = ca;
    }
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(n, 0); ihdr.writeUInt32BE(n, 4);
  ihdr[8] = 8; ihdr[9] = 6; // 8-bit RGBA
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(px)), chunk("IEND", Buffer.alloc(0))]);
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
