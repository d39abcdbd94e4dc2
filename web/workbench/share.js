// Code in a URL fragment (`#code=...`): UTF-8, deflate-raw compressed, base64url.

async function pipe(bytes, stream) {
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(stream))
    .arrayBuffer());
}

function toBase64URL(bytes) {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64URL(text) {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** The fragment that carries `code`. */
export async function encodeFragment(code) {
  const packed = await pipe(new TextEncoder().encode(code), new CompressionStream("deflate-raw"));
  return `#code=${toBase64URL(packed)}`;
}

/** The code a fragment carries, or null. */
export async function decodeFragment(hash) {
  const match = /^#code=([A-Za-z0-9_-]+)$/.exec(hash || "");
  if (!match) return null;
  try {
    const bytes = await pipe(fromBase64URL(match[1]), new DecompressionStream("deflate-raw"));
    return new TextDecoder().decode(bytes);
  } catch (error) {
    console.warn("workbench: the link's code could not be read", error);
    return null;
  }
}
