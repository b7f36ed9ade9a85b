// Swagger UI draws its request-body editor with no label and its scrolling code samples with no
// keyboard access (axe-core: "label", "scrollable-region-focusable"). As it draws them, give
// each editor a name and each sample a place in the tab order. Swagger UI itself is unchanged.
(() => {
  const mend = () => {
    document.querySelectorAll(".swagger-ui textarea:not([aria-label])").forEach((editor) => {
      const parameter = editor.closest("[data-param-name]");
      const name = parameter ? `Value of ${parameter.dataset.paramName}` : "Request body (JSON)";
      editor.setAttribute("aria-label", name);
    });
    document.querySelectorAll(".swagger-ui pre.microlight:not([tabindex])").forEach((sample) => {
      sample.setAttribute("tabindex", "0");
    });
  };
  new MutationObserver(mend).observe(document.documentElement, { childList: true, subtree: true });
})();
