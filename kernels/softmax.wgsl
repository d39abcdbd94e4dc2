// Softmax / log-softmax over the last axis: one workgroup per row, shared-memory reductions.
${params}
${bindings}

var<workgroup> partial: array<f32, ${workgroup}>;

${entry}
    let row = group;
    if (row >= params.rows) {
        return;
    }
    let base = row * params.cols;
    var mx = x[base];
    for (var c = lid; c < params.cols; c += ${workgroup}u) {
        mx = max(mx, x[base + c]);
    }
    partial[lid] = mx;
    workgroupBarrier();
    for (var s = ${workgroup}u / 2u; s > 0u; s = s / 2u) {
        if (lid < s) {
            partial[lid] = max(partial[lid], partial[lid + s]);
        }
        workgroupBarrier();
    }
    mx = partial[0];
    workgroupBarrier();
    var total = 0.0;
    for (var c = lid; c < params.cols; c += ${workgroup}u) {
        total += exp(x[base + c] - mx);
    }
    partial[lid] = total;
    workgroupBarrier();
    for (var s = ${workgroup}u / 2u; s > 0u; s = s / 2u) {
        if (lid < s) {
            partial[lid] = partial[lid] + partial[lid + s];
        }
        workgroupBarrier();
    }
    total = partial[0];
    for (var c = lid; c < params.cols; c += ${workgroup}u) {
        let v = x[base + c];
        out[base + c] = ${result};
    }
}
