// C[batch] = op(A[batch]) @ op(B[batch]), row-major, op = identity or transpose (read through
// swapped indices, never copied); batch offsets come from strides (0 = broadcast).
// A ${wx}x${wy}-thread workgroup computes a TILE_M x TILE_N block of C; each thread a 4x4
// register block, reading B from shared memory as vec4 rows.
${params}
${bindings}

const WX = ${wx}u;
const WY = ${wy}u;
const TK = ${tk}u;
const TILE_M = ${wy}u * 4u;
const TILE_N = ${wx}u * 4u;
const THREADS = ${wx}u * ${wy}u;

var<workgroup> a_tile: array<f32, ${tk} * ${wy} * 4>;  // [TK][TILE_M]: k-major
var<workgroup> b_tile: array<f32, ${tk} * ${wx} * 4>;  // [TK][TILE_N]

fn dim(v: array<vec4<u32>, 2>, d: u32) -> u32 {
    return v[d / 4u][d % 4u];
}

@compute @workgroup_size(${wx}, ${wy})
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_id) local: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
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
    let m0 = wid.y * TILE_M;
    let n0 = wid.x * TILE_N;
    let row = local.y * 4u;
    let col = local.x * 4u;
    var acc0 = vec4<f32>();
    var acc1 = vec4<f32>();
    var acc2 = vec4<f32>();
    var acc3 = vec4<f32>();
    for (var k0 = 0u; k0 < k; k0 += TK) {
        for (var e = lid; e < TILE_M * TK; e += THREADS) {
            let gm = m0 + e / TK;
            let gk = k0 + e % TK;
            var v = 0.0;
            if (gm < m && gk < k) {
                v = a[a_off + ${a_index}];
            }
            a_tile[(e % TK) * TILE_M + e / TK] = v;
        }
        for (var e = lid; e < TILE_N * TK; e += THREADS) {
            let gk = k0 + e / TILE_N;
            let gn = n0 + e % TILE_N;
            var v = 0.0;
            if (gk < k && gn < n) {
                v = b[b_off + ${b_index}];
            }
            b_tile[e] = v;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TK; kk++) {
            let bo = kk * TILE_N + col;
            let bv = vec4<f32>(b_tile[bo], b_tile[bo + 1u], b_tile[bo + 2u], b_tile[bo + 3u]);
            let ao = kk * TILE_M + row;
            acc0 += a_tile[ao] * bv;
            acc1 += a_tile[ao + 1u] * bv;
            acc2 += a_tile[ao + 2u] * bv;
            acc3 += a_tile[ao + 3u] * bv;
        }
        workgroupBarrier();
    }
    let c_off = wid.z * m * n;
    var acc = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
    for (var i = 0u; i < 4u; i++) {
        let gm = m0 + row + i;
        if (gm >= m) {
            break;
        }
        for (var j = 0u; j < 4u; j++) {
            if (n0 + col + j < n) {
                c[c_off + gm * n + n0 + col + j] = acc[i][j];
            }
        }
    }
}
