// The WebGPU device side of the tab's driver, below web/gpu_bridge.js: getting an adapter and a
// device, compiling a pipeline (errors reported with the compiler's messages and the numbered
// WGSL), and the warm start that recompiles the last session's pipelines while Pyodide boots.

/** Request an adapter and a device with the adapter's largest buffer limits. */
export async function requestGPU() {
  if (!("gpu" in navigator)) {
    throw new Error(
      "WebGPU is not available in this browser (navigator.gpu is missing). Use a Chromium-based " +
        "browser (headless Chromium needs --enable-unsafe-webgpu) or pick ?backend=numpy.",
    );
  }
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) {
    throw new Error(
      "navigator.gpu.requestAdapter() returned null: no WebGPU adapter. Headless Chromium needs " +
        "--enable-unsafe-webgpu; otherwise try ?backend=numpy.",
    );
  }
  const wanted = [
    "maxStorageBufferBindingSize",
    "maxBufferSize",
    "maxStorageBuffersPerShaderStage",
    "maxComputeWorkgroupStorageSize",
    "maxComputeInvocationsPerWorkgroup",
    "maxComputeWorkgroupSizeX",
    "maxComputeWorkgroupSizeY",
    "maxComputeWorkgroupsPerDimension",
  ];
  const requiredLimits = {};
  for (const key of wanted) if (key in adapter.limits) requiredLimits[key] = adapter.limits[key];
  const device = await adapter.requestDevice({ requiredLimits });
  return { adapter, device };
}


/** {pipeline, layout} of `wgsl`, compiled with createComputePipelineAsync; rejects with the
 * compiler's messages and the numbered source. */
export async function compilePipeline(device, wgsl) {
  // An error scope keeps a bad shader out of `uncapturederror` (it is reported here instead).
  // Pushed and popped with no await between: compiles overlap, and scopes are a stack.
  device.pushErrorScope("validation");
  const module = device.createShaderModule({ code: wgsl });
  const compiling = device.createComputePipelineAsync({
    layout: "auto",
    compute: { module, entryPoint: "main" },
  });
  const scope = device.popErrorScope();
  let pipeline = null;
  let failure = null;
  try {
    pipeline = await compiling;
  } catch (error) {
    failure = error;
  }
  const scoped = await scope;
  if (failure || scoped) {
    const info = await module.getCompilationInfo();
    const messages = info.messages.map(
      (m) => `${m.type} at line ${m.lineNum}:${m.linePos}: ${m.message}`,
    );
    const source = wgsl.split("\n").map((line, i) => `${String(i + 1).padStart(4)}| ${line}`);
    throw new Error(
      `WGSL pipeline creation failed: ${(failure || scoped).message}\n` +
        `${messages.join("\n")}\n${source.join("\n")}`,
    );
  }
  return { pipeline, layout: pipeline.getBindGroupLayout(0) };
}

// The warm start: the WGSL a session compiled is kept in Cache Storage (per adapter), and the
// next session's worker starts compiling it as soon as it has a device, while Pyodide boots;
// the backend's first requests for those kernels then find them compiled or under way.
const WARM_CACHE = "webkeras-pipelines-v1";
export const MAX_WARM_PIPELINES = 256;

function pipelineListKey(info) {
  const name = [info.vendor, info.architecture, info.device, info.description].join("|");
  return new URL(`/webkeras-pipeline-list/${encodeURIComponent(name)}`, self.location.href);
}

export async function savePipelineList(info, sources) {
  try {
    const cache = await self.caches.open(WARM_CACHE);
    await cache.put(pipelineListKey(info), new Response(JSON.stringify(sources)));
  } catch (error) {
    console.info("webkeras: pipeline list not saved:", error.message);
  }
}

/**
 * Start compiling the pipelines the last session on this adapter used -> a Map (WGSL ->
 * Promise of a pipeline entry, or of null when that compile failed) for
 * `GPUBridge.adoptWarmPipelines`. Empty where Cache Storage is missing or holds no list.
 */
export async function startWarmPipelines(adapter, device) {
  const warm = new Map();
  try {
    const cache = await self.caches.open(WARM_CACHE);
    const saved = await cache.match(pipelineListKey(adapterInfoOf(adapter)));
    for (const wgsl of saved ? await saved.json() : []) {
      warm.set(wgsl, compilePipeline(device, wgsl).catch(() => null));
    }
  } catch (error) {
    console.info("webkeras: no pipeline warm start:", error.message);
  }
  return warm;
}

export function adapterInfoOf(adapter) {
  const info = adapter.info || {};
  return {
    vendor: info.vendor || "",
    architecture: info.architecture || "",
    device: info.device || "",
    description: info.description || "",
    isFallbackAdapter: Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter),
  };
}
