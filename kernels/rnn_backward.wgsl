// The VJP of rnn_forward.wgsl: the same workgroup layout walks the steps from the last run one
// back. Per step each thread turns the gradients reaching its units' new states into the
// gates' (written to d_inputs for every step, and to shared memory); after a barrier, each
// thread takes its units' share of d(hd) = d_gates @ U^T from the whole row. The gradients of
// the states and a masked step's output gradient (passed on to the output before it) stay in
// registers; what is left of the states' at the first step is d_h0 (d_c0).
${params}
${bindings}

const W = ${workgroup}u;
const ROWS = ${rows}u;
const PER = ${per_thread}u;
const GATES = ${gates}u;
const SAVED = ${saved}u;

var<workgroup> d_gates: array<f32, ${shared}>;
var<private> load_base: u32;

fn drop(b: u32, j: u32) -> f32 {
    return select(1.0, dropout[b * params.units + j], params.has_dropout != 0u);
}

fn load(slot: u32) -> f32 {
    return saved[load_base + slot * params.units];
}

@compute @workgroup_size(${workgroup})
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let u = params.units;
    let gu = GATES * u;
    let steps = params.steps;
    let b0 = wid.x * ROWS;
    let packed = steps + ${states}u;
    var ds0: array<f32, ${slots}>;
    var ds1: array<f32, ${slots}>;
    var carry: array<f32, ${slots}>;
    for (var r = 0u; r < ROWS; r++) {
        let b = b0 + r;
        for (var q = 0u; q < PER; q++) {
            let j = lid + q * W;
            if (b >= params.batch || j >= u) {
                break;
            }
            ds0[r * PER + q] = grad[(b * packed + steps) * u + j];
            ${init_state1}
        }
    }
    for (var kk = 0u; kk < steps; kk++) {
        let k = steps - 1u - kk;
        let t = select(k, steps - 1u - k, params.go_backwards != 0u);
        for (var q = 0u; q < PER; q++) {
            let j = lid + q * W;
            if (j >= u) {
                break;
            }
            for (var r = 0u; r < ROWS; r++) {
                let b = b0 + r;
                if (b >= params.batch) {
                    break;
                }
                let s = r * PER + q;
                let d_out = grad[(b * packed + k) * u + j] + carry[s];
                var dn0 = d_out + ds0[s];
                var dn1 = ds1[s];
                var passed0 = 0.0;
                var passed1 = 0.0;
                if (params.has_mask != 0u) {
                    let keep = mask[b * steps + t] != 0u;
                    if (!keep) {
                        passed0 = ds0[s];
                        passed1 = ds1[s];
                        dn0 = 0.0;
                        dn1 = 0.0;
                    }
                    carry[s] = select(d_out, 0.0, keep || params.zero_output != 0u);
                }
                load_base = params.batch * steps * u + (b * steps + t) * SAVED * u + j;
                var dxs: array<f32, ${gates}>;
                var drs: array<f32, ${gates}>;
                var direct0 = 0.0;
                var direct1 = 0.0;
                {
                    ${body}
                }
                for (var gate = 0u; gate < GATES; gate++) {
                    d_inputs[(b * steps + t) * gu + gate * u + j] = dxs[gate];
                    ${write_recurrent}
                    d_gates[r * gu + gate * u + j] = drs[gate];
                }
                ds0[s] = direct0 + passed0;
                ds1[s] = direct1 + passed1;
            }
        }
        workgroupBarrier();
        for (var q = 0u; q < PER; q++) {
            let j = lid + q * W;
            if (j >= u) {
                break;
            }
            // Gates and rows are constant loops (unrolled): llvmpipe caps the iterations of
            // all of an invocation's other loops together at 65535.
            var d_hd: array<f32, ${rows}>;
            d_hd = array<f32, ${rows}>();
            for (var m = 0u; m < u; m++) {
                for (var gate = 0u; gate < GATES; gate++) {
                    let w = kernel_t[(gate * u + m) * u + j];
                    for (var r = 0u; r < ROWS; r++) {
                        d_hd[r] += d_gates[r * gu + gate * u + m] * w;
                    }
                }
            }
            for (var r = 0u; r < ROWS; r++) {
                let b = b0 + r;
                if (b >= params.batch) {
                    break;
                }
                ds0[r * PER + q] += d_hd[r] * drop(b, j);
            }
        }
        workgroupBarrier();
    }
    for (var r = 0u; r < ROWS; r++) {
        let b = b0 + r;
        for (var q = 0u; q < PER; q++) {
            let j = lid + q * W;
            if (b >= params.batch || j >= u) {
                break;
            }
            d_h0[b * u + j] = ds0[r * PER + q];
            ${final_state1}
        }
    }
}
