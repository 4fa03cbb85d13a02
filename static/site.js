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

    // The page's language: its words come in data- attributes, Chinese when missing.
    function text(name, fallback) {
      return preview.getAttribute("data-" + name) || fallback;
    }

    function showMessage(message) {
      preview.textContent = "";
      var p = document.createElement("p");
      p.className = "preview-message";
      p.textContent = message;
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
            throw new Error(why || text("failed", "预览失败"));
          }
          return data.html;
        });
      }).then(function (html) {
        if (html) {
          // Sanitised on the server by the same code that renders saved posts.
          preview.innerHTML = html;
          preview.hidden = false;
        } else {
          showMessage(text("empty", "正文为空，没有可预览的内容。"));
        }
      }).catch(function (error) {
        var why = error instanceof TypeError ? text("offline", "网络连接失败") : error.message;
        showMessage(text("unavailable", "暂时无法预览（{why}），您仍可直接提交。").replace("{why}", why));
      }).then(function () {
        button.disabled = false;
      });
    });
  }

  // Similar answered questions while a question's title is typed (consultation boards only:
  // the page has a #similar region there). Titles are user text: built with textContent only.
  function setUpSimilar() {
    var region = document.getElementById("similar");
    var title = document.getElementById("title");
    if (!region || !title || !window.fetch) {
      return;
    }
    var button = document.getElementById("similar-button");
    var timer = null;
    var asked = 0;
    var shown = "";

    function clear() {
      region.textContent = "";
      shown = "";
    }

    function show(items, wanted) {
      region.textContent = "";
      shown = wanted;
      if (!items.length) {
        return;
      }
      var panel = document.createElement("div");
      panel.className = "similar-panel";
      var head = document.createElement("p");
      head.className = "similar-head";
      head.textContent = region.getAttribute("data-head") || "已有相似的已解答问题，看看是否能解决您的疑问：";
      panel.appendChild(head);
      var list = document.createElement("ul");
      items.slice(0, 8).forEach(function (item) {
        var li = document.createElement("li");
        var link = document.createElement("a");
        link.href = "/posts/" + encodeURIComponent(item.id);
        link.target = "_blank";
        link.rel = "noopener";
        link.textContent = item.title;
        var note = document.createElement("span");
        note.className = "visually-hidden";
        note.textContent = region.getAttribute("data-new-window") || "（在新窗口打开）";
        if (document.documentElement.lang.indexOf("zh") !== 0) {
          note.textContent = " " + note.textContent;  // the translation file keeps no spaces
        }
        link.appendChild(note);
        li.appendChild(link);
        list.appendChild(li);
      });
      panel.appendChild(list);
      region.appendChild(panel);
    }

    function look() {
      var wanted = title.value.trim();
      if (wanted.length < 4 || wanted.length > 100) {
        asked += 1;
        clear();
        return;
      }
      if (wanted === shown) {
        return;
      }
      var mine = ++asked;
      var board = button ? button.getAttribute("data-board") || "" : "";
      fetch("/api/v1/search/similar?title=" + encodeURIComponent(wanted) +
            (board ? "&board=" + encodeURIComponent(board) : ""), {
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (response) {
        return response.ok ? response.json() : null;
      }).then(function (data) {
        if (mine !== asked) {
          return;  // a newer title is being looked up
        }
        if (data && Array.isArray(data.items)) {
          // 常见问题 entries first, each leading to the post it was made from.
          var entries = (Array.isArray(data.faq) ? data.faq : []).map(function (entry) {
            return { id: entry.post_id, title: entry.question };
          });
          show(entries.concat(data.items), wanted);
        } else {
          clear();
        }
      }).catch(function () {
        if (mine === asked) {
          clear();
        }
      });
    }

    title.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(look, 400);
    });
    if (title.value) {
      look();
    }

    // Without this script the button sends the whole form to the similar-questions page;
    // with it, only the title and the board go into the address.
    if (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        var query = "title=" + encodeURIComponent(title.value.trim()) +
          "&board=" + encodeURIComponent(button.getAttribute("data-board") || "");
        window.location.href = "/search/similar?" + query;
      });
    }
  }

  // 答复模板: choosing a template fills the reply at once (without this script the choice is
  // sent as ?template=<id> and the page comes back with the text filled in).
  function setUpTemplates() {
    var picker = document.querySelector("form.template-picker");
    var select = picker && picker.elements.namedItem("template");
    var body = picker && document.getElementById(picker.getAttribute("data-fills") || "body");
    if (!select || !body) {
      return;
    }
    select.addEventListener("change", function () {
      var option = select.options[select.selectedIndex];
      var text = option && option.getAttribute("data-body");
      if (text) {
        body.value = text;
        body.focus();
      }
    });
  }

  function setUp() {
    setUpPreview();
    setUpSimilar();
    setUpTemplates();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
