// Fused in-place optimizer update of one variable (Keras 3 formulas, see backend/base.py).
${params}
${bindings}

${entry}
    let i = group * ${workgroup}u + lid;
    if (i >= params.n) {
        return;
    }
    ${body}
}
