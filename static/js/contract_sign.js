// The signature pad of the contract's signing page (templates/installments/plan_contract_sign.html): signature_pad
// (static/vendor/signature_pad) draws on the canvas with a finger, a stylus or a mouse; on submit the drawing
// goes into the form as a PNG data: URL. The canvas follows its box's width (a 360 px phone, a counter tablet).
(function () {
  "use strict";
  var canvas = document.getElementById("signature-pad");
  var form = document.getElementById("sign-form");
  if (!canvas || !form || typeof SignaturePad === "undefined") {
    return;
  }
  var image = form.querySelector("input[name=image]");
  var submit = document.getElementById("signature-submit");
  var pad = new SignaturePad(canvas, { penColor: "rgb(0, 0, 60)", backgroundColor: "rgba(255, 255, 255, 0)" });

  function refresh() {
    submit.disabled = pad.isEmpty();
  }

  function resize() {
    // Drawn at the screen's pixel density, so the stroke stays sharp; the drawing survives the resize.
    var ratio = Math.max(window.devicePixelRatio || 1, 1);
    var strokes = pad.toData();
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext("2d").scale(ratio, ratio);
    pad.clear();
    pad.fromData(strokes);
    refresh();
  }

  pad.addEventListener("endStroke", refresh);
  document.getElementById("signature-clear").addEventListener("click", function () {
    pad.clear();
    refresh();
  });
  form.addEventListener("submit", function (event) {
    if (pad.isEmpty()) {
      event.preventDefault();
      return;
    }
    image.value = pad.toDataURL("image/png");
  });
  window.addEventListener("resize", resize);
  resize();
})();
