// out[i] = body(a, b, c): unary, binary, where, clip, cast, fill, copy (transpose, broadcast).
// Inputs are read contiguously, as one scalar, or through strides (0 where broadcast).
${params}
${bindings}

fn dim(v: array<vec4<u32>, 2>, d: u32) -> u32 {
    return v[d / 4u][d % 4u];
}
${helpers}
@compute @workgroup_size(${workgroup})
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    // A 2-D grid of 1-D workgroups, so sizes past 65535 groups still fit.
    let i = (wid.y * groups.x + wid.x) * ${workgroup}u + lid;
    if (i >= params.n) {
        return;
    }
${index}${loads}    out[i] = ${body};
}
