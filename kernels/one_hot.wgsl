// out[..., j] = (indices[...] == j); out-of-range indices give a row of zeros.
${params}
${bindings}

${entry}
    let i = group * ${workgroup}u + lid;
    if (i >= params.n) {
        return;
    }
    let hit = indices[i / params.depth] == i32(i % params.depth);
    out[i] = select(${T}(0), ${T}(1), hit);
}
