/* 玉溪网 互动交流: progressive enhancement only. Every page works without this file. */
(function () {
  "use strict";

  function setUpPreview() {
    var button = document.getElementById("preview-button");
    var preview = document.getElementById("preview");
    if (!button || !preview || !window.fetch) {
      return;
    }
    var form = button.form;
    var body = form && form.elements.namedItem("body");
    var xsrf = form && form.elements.namedItem("_xsrf");
    if (!body || !xsrf) {
      return;
    }

    function showMessage(text) {
      preview.textContent = "";
      var p = document.createElement("p");
      p.className = "preview-message";
      p.textContent = text;
      preview.appendChild(p);
      preview.hidden = false;
    }

    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      fetch("/api/v1/preview", {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "Accept": "application/json",
          "X-XSRFToken": xsrf.value
        },
        body: JSON.stringify({ body: body.value })
      }).then(function (response) {
        return response.json().catch(function () { return null; }).then(function (data) {
          if (!response.ok || !data || typeof data.html !== "string") {
            var error = (data && data.error) || {};
            var why = (error.fields && error.fields.body) || error.message;
            throw new Error(why || "预览失败");
          }
          return data.html;
        });
      }).then(function (html) {
        if (html) {
          // Sanitised on the server by the same code that renders saved posts.
          preview.innerHTML = html;
          preview.hidden = false;
        } else {
          showMessage("正文为空，没有可预览的内容。");
        }
      }).catch(function (error) {
        var why = error instanceof TypeError ? "网络连接失败" : error.message;
        showMessage("暂时无法预览（" + why + "），您仍可直接提交。");
      }).then(function () {
        button.disabled = false;
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpPreview);
  } else {
    setUpPreview();
  }
})();
