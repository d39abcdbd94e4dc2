// C[batch] = op(A[batch]) @ op(B[batch]) on software adapters (SwiftShader, lavapipe): each
// thread computes a ${rows}x${cols} block of C from A and B read straight from their buffers, with
// no workgroup memory and no barrier. On a CPU the tiles of matmul.wgsl are copies into memory
// no faster than the buffers, and barriers turn a workgroup's invocations into coroutines: in
// SwiftShader the tiled kernel's time followed its workgroup count (~2 ms each at 16x16 threads),
// not its FLOPs, so (128x784)^T @ (128x128) took 4x the time of 128x784 @ 784x128.
${params}
${bindings}

const WX = ${wx}u;
const WY = ${wy}u;
// Longest inner loop: llvmpipe stops any loop after 65535 iterations.
const K_CHUNK = 4096u;

${dim_fn}

// Columns first..first+3 of a row of C from `base`, those < n.
fn store4(base: u32, first: u32, n: u32, v: vec4<f32>) {
    for (var j = 0u; j < 4u; j++) {
        if (first + j < n) {
            c[base + j] = v[j];
        }
    }
}

@compute @workgroup_size(${wx}, ${wy})
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_id) local: vec3<u32>) {
    let m = params.m;
    let n = params.n;
    let k = params.k;
    var a_off = 0u;
    var b_off = 0u;
    var rest = wid.z;
    for (var d = params.batch_rank; d > 0u; d--) {
        let q = rest % dim(params.batch_shape, d - 1u);
        rest = rest / dim(params.batch_shape, d - 1u);
        a_off += q * dim(params.a_strides, d - 1u);
        b_off += q * dim(params.b_strides, d - 1u);
    }
    let row = (wid.y * WY + local.y) * ${rows}u;
    let col = (wid.x * WX + local.x) * ${cols}u;
    // Rows and columns past the edge read the last one (clamped, no branch in the loop) and
    // are not written.
${offsets}
${accumulators}
    for (var k0 = 0u; k0 < k; k0 += K_CHUNK) {
        let k1 = min(k0 + K_CHUNK, k);
${k_loop}
    }
    let c_off = wid.z * m * n;
${stores}
}
