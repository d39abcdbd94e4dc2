// A whole sequence of a recurrent cell (kernels/recurrence.py): a workgroup runs ROWS batch
// rows through every step, thread `lid` owning units lid, lid + W, ... (PER at most). Each
// step's recurrent product reads hd = h_prev * dropout from shared memory, rewritten between
// two barriers at the end of the step; states and last outputs stay in the thread's registers.
// out: (batch, steps + states, units), the outputs in run order, then the final states.
// saved: hd of each step (batch, steps, units), then `SAVED` floats per unit and step.
${params}
${bindings}

const W = ${workgroup}u;
const ROWS = ${rows}u;
const PER = ${per_thread}u;
const GATES = ${gates}u;
const SAVED = ${saved}u;

var<workgroup> hd: array<f32, ${shared}>;
var<private> save_base: u32;

${helpers}

fn drop(b: u32, j: u32) -> f32 {
    return select(1.0, dropout[b * params.units + j], params.has_dropout != 0u);
}

fn save(slot: u32, value: f32) {
    saved[save_base + slot * params.units] = value;
}

@compute @workgroup_size(${workgroup})
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let u = params.units;
    let steps = params.steps;
    let b0 = wid.x * ROWS;
    let packed = steps + ${states}u;
    var state0: array<f32, ${slots}>;
    var state1: array<f32, ${slots}>;
    var last: array<f32, ${slots}>;
    for (var r = 0u; r < ROWS; r++) {
        let b = b0 + r;
        for (var q = 0u; q < PER; q++) {
            let j = lid + q * W;
            if (j >= u) {
                break;
            }
            // Rows past the batch hold zeros: their products are computed and dropped.
            var h = 0.0;
            if (b < params.batch) {
                h = h0[b * u + j];
                ${init_state1}
                hd[r * u + j] = h * drop(b, j);
            } else {
                hd[r * u + j] = 0.0;
            }
            state0[r * PER + q] = h;
            last[r * PER + q] = 0.0;
        }
    }
    workgroupBarrier();
    for (var k = 0u; k < steps; k++) {
        let t = select(k, steps - 1u - k, params.go_backwards != 0u);
        for (var q = 0u; q < PER; q++) {
            let j = lid + q * W;
            if (j >= u) {
                break;
            }
            // Assigned, not just declared: a declaration in a loop may be zeroed only once.
            var acc: array<f32, ${accumulators}>;
            acc = array<f32, ${accumulators}>();
            for (var m = 0u; m < u; m++) {
                for (var gate = 0u; gate < GATES; gate++) {
                    let w = kernel[m * GATES * u + gate * u + j];
                    for (var r = 0u; r < ROWS; r++) {
                        acc[r * GATES + gate] += hd[r * u + m] * w;
                    }
                }
            }
            for (var r = 0u; r < ROWS; r++) {
                let b = b0 + r;
                if (b >= params.batch) {
                    break;
                }
                let s = r * PER + q;
                let x_base = (b * steps + t) * GATES * u + j;
                saved[(b * steps + t) * u + j] = hd[r * u + j];
                save_base = params.batch * steps * u + (b * steps + t) * SAVED * u + j;
                let prev0 = state0[s];
                let prev1 = state1[s];
                var new0 = 0.0;
                var new1 = 0.0;
                ${gate_reads}
                {
                    ${body}
                }
                var output = new0;
                if (params.has_mask != 0u && mask[b * steps + t] == 0u) {
                    // A masked step keeps the states and repeats the last output (zeros first).
                    new0 = prev0;
                    new1 = prev1;
                    output = select(last[s], 0.0, params.zero_output != 0u || k == 0u);
                }
                state0[s] = new0;
                state1[s] = new1;
                last[s] = output;
                out[(b * packed + k) * u + j] = output;
            }
        }
        workgroupBarrier();
        for (var q = 0u; q < PER; q++) {
            let j = lid + q * W;
            if (j >= u) {
                break;
            }
            for (var r = 0u; r < ROWS; r++) {
                let b = b0 + r;
                if (b < params.batch) {
                    hd[r * u + j] = state0[r * PER + q] * drop(b, j);
                }
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
            out[(b * packed + steps) * u + j] = state0[r * PER + q];
            ${final_state1}
        }
    }
}
