// Package cdn is Marquee's edge cache: signed, expiring viewer URLs (Signer)
// and an HTTP node (Node) that caches posters, HLS segments and downloads
// from the control plane (cmd/api) on local disk, near the viewers.
//
// The control plane signs a path with the secret it shares with its CDN
// nodes (cdn.url_secret) and hands the viewer
// https://<cdn-node><path>?exp=<unix>&sig=<base64url>. The node checks the
// signature, serves the object from disk when it has it, and otherwise
// fetches it once from the origin with its own service credential
// (Authorization: Bearer <origin token>), streaming it to the viewer while
// it fills the cache.
//
// Objects are cached forever until evicted (least recently used, bounded by
// total bytes): the origin must give each version of an object its own path.
// Responses marked Cache-Control private or no-store, and anything but 200,
// pass through uncached; that is how HLS playlists that embed freshly signed
// segment URLs reach viewers: a playlist may list segments relative to
// itself ("seg00001.ts?exp=…&sig=…"), since the node rejects any query
// parameter other than exp and sig.
//
// MaxBytes bounds published objects (header, body and trailer); fills in
// progress sit in temp files beside them and are not counted until renamed.
// Answers carry Access-Control-Allow-Origin: * so the web app can fetch
// segments with XHR: the signed URL, not a cookie, is the credential.
package cdn
