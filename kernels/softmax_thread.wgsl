// Softmax / log-softmax over the last axis: one thread per row, no barriers (CPU adapters
// such as lavapipe and SwiftShader pay heavily for workgroup barriers).
${params}
${bindings}

${entry}
    let row = group * ${workgroup}u + lid;
    if (row >= params.rows) {
        return;
    }
    let base = row * params.cols;
    // llvmpipe ends a loop after 65535 iterations: the backend keeps `cols` below that here.
    var mx = x[base];
    for (var c = 1u; c < params.cols; c++) {
        mx = max(mx, x[base + c]);
    }
    var total = 0.0;
    for (var c = 0u; c < params.cols; c++) {
        total += exp(x[base + c] - mx);
    }
    for (var c = 0u; c < params.cols; c++) {
        let v = x[base + c];
        out[base + c] = ${result};
    }
}
