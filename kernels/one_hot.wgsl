// out[..., j] = (indices[...] == j); out-of-range indices give a row of zeros.
${params}
${bindings}

@compute @workgroup_size(${workgroup})
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = (wid.y * groups.x + wid.x) * ${workgroup}u + lid;
    if (i >= params.n) {
        return;
    }
    let hit = indices[i / params.depth] == i32(i % params.depth);
    out[i] = select(${T}(0), ${T}(1), hit);
}
