// Fused in-place optimizer update of one variable (Keras 3 formulas, see backend/base.py).
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
    ${body}
}
