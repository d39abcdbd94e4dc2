// out[i] = body(a, b, c): unary, binary, where, clip, cast, fill, copy (transpose, broadcast).
// Inputs are read contiguously, as one scalar, or through strides (0 where broadcast).
${params}
${bindings}

${dim_fn}
${helpers}
${entry}
    let i = group * ${workgroup}u + lid;
    if (i >= params.n) {
        return;
    }
${index}${loads}    out[i] = ${body};
}
