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

// vec4 tiles: the inner loop reads 4 rows of A and 4 columns of B with one load each.
var<workgroup> a_tile: array<vec4<f32>, ${tk} * ${wy}>;  // [TK][TILE_M / 4]: k-major
var<workgroup> b_tile: array<vec4<f32>, ${tk} * ${wx}>;  // [TK][TILE_N / 4]

${dim_fn}

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
            // Neighbouring threads read neighbouring addresses of A: ${a_walk}.
            let tm = ${a_tm};
            let tk = ${a_tk};
            let gm = m0 + tm;
            let gk = k0 + tk;
            var v = 0.0;
            if (gm < m && gk < k) {
                v = a[a_off + ${a_index}];
            }
            let j = tk * TILE_M + tm;
            a_tile[j / 4u][j % 4u] = v;
        }
        for (var e = lid; e < TILE_N * TK; e += THREADS) {
            // Neighbouring threads read neighbouring addresses of B: ${b_walk}.
            let tn = ${b_tn};
            let tk = ${b_tk};
            let gk = k0 + tk;
            let gn = n0 + tn;
            var v = 0.0;
            if (gk < k && gn < n) {
                v = b[b_off + ${b_index}];
            }
            let j = tk * TILE_N + tn;
            b_tile[j / 4u][j % 4u] = v;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TK; kk++) {
            let bv = b_tile[kk * WX + local.x];
            let av = a_tile[kk * WY + local.y];
            acc0 += av.x * bv;
            acc1 += av.y * bv;
            acc2 += av.z * bv;
            acc3 += av.w * bv;
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
