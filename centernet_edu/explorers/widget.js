/* An explorer as a widget in a live kernel: anywidget's render, the last part of the ES
 * module of centernet_edu.widgets.live.LiveExplorer (the other scripts come first). The
 * kernel's traits: values (the controls), yours (the student's functions beside the
 * package's, see yours.js), view (the explorer's HTML).
 */
function render({ model, el }) {
  el.classList.add("cn-widget");  // tells it apart from the self-contained explorer
  el.innerHTML = model.get("view");
  var root = el.querySelector(".cn-explorer");
  var live = CenterNetUI.mount(root, {
    onInput: function (values) {
      model.set("values", values);
      model.save_changes();
    },
  });
  function fromKernel() { live.set(model.get("values")); }
  function yours() { CenterNetYours.show(root, model.get("yours")); }
  model.on("change:values", fromKernel);
  model.on("change:yours", yours);
  fromKernel();
  yours();
  return function () {
    model.off("change:values", fromKernel);
    model.off("change:yours", yours);
  };
}

export default { render };
