// Glue between the locally served ipywidgets embed bundle
// (@jupyter-widgets/html-manager 1.0.6, in _static/vendor/) and the page.
// _config.yml loads it on pages with widgets, after require.js and before the
// embed bundle. It lives in book/_site/ (copied into the site as it is), not in
// book/_static/: Jupyter Book 1 would add it to every page a second time.
(function () {
  // The bundle defines its modules by name and loads its fonts from where
  // require.js would have found those modules: by default the page's folder,
  // where they are not. Tell require.js where the bundle is before the bundle's
  // first require() call, which comes as soon as it is loaded.
  var here = document.currentScript && document.currentScript.src;
  if (here && window.requirejs) {
    var dist = new URL("vendor/html-manager/dist/", here).href;
    window.requirejs.config({
      paths: {
        "@jupyter-widgets/html-manager": dist + "index",
        "@jupyter-widgets/html-manager/dist": dist.replace(/\/$/, ""),
      },
    });
  }

  // Widget labels are typeset with MathJax 2's MathJax.Hub.Queue; the page runs
  // MathJax 3, which has no Hub (and throws a TypeError without this). MathJax 3
  // replaces window.MathJax when it loads (deferred), so patch it afterwards.
  document.addEventListener("DOMContentLoaded", function () {
    var mj = window.MathJax;
    if (!mj || mj.Hub || !mj.typesetPromise) {
      return;
    }
    mj.Hub = {
      Queue: function (job) {
        var element = job && job[2];
        var ready = mj.startup && mj.startup.promise ? mj.startup.promise : Promise.resolve();
        ready
          .then(function () {
            return mj.typesetPromise(element ? [element] : undefined);
          })
          .catch(function (err) {
            console.warn("MathJax could not typeset a widget label", err);
          });
      },
    };
  });
})();
