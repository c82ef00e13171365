"use strict";
(function () {
  var endpoint = document.querySelector('meta[name="graphql-endpoint"]').content;
  var $ = function (id) { return document.getElementById(id); };
  var query = $("query"), variables = $("variables"), result = $("result"), status = $("status");
  var stopButton = $("stop");
  var stop = null;

  var exampleQuery = [
    "query Advice($question: String!) {",
    "  advice(question: $question) {",
    "    question",
    "    legal { isLegal score explanation }",
    "    answer {",
    "      text",
    "      generator",
    "      citations { id resolved statute { title } }",
    "    }",
    "    similarQuestions(first: 3) { score qa { question category } }",
    "    precedents(first: 5) {",
    "      score",
    "      precedent { caseNumber court date title holding citedStatutes { id resolved } }",
    "    }",
    "    statutes(first: 10) {",
    "      score",
    "      reasons",
    "      statute { id law article title text citedBy(first: 3) { caseNumber date } }",
    "    }",
    "    graph { nodes { id kind label } edges { from to kind } }",
    "  }",
    "}"
  ].join("\n");
  var exampleSubscription = [
    "subscription Stream($question: String!) {",
    "  adviceStream(question: $question) {",
    "    stage",
    "    delta",
    "    legal { isLegal score explanation }",
    "    similarQuestions { score qa { question } }",
    "    precedents { score precedent { caseNumber title } }",
    "    statutes { score reasons statute { id title } }",
    "    answer { text citations { id resolved } }",
    "    error { code message }",
    "  }",
    "}"
  ].join("\n");
  var exampleVariables = JSON.stringify({ question: "전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요" }, null, 2);

  function setStatus(text) { status.textContent = text ? "— " + text : ""; }
  function show(value) { result.textContent = typeof value === "string" ? value : JSON.stringify(value, null, 2); }
  function append(value) {
    var div = document.createElement("div");
    div.className = "event";
    div.textContent = typeof value === "string" ? value : JSON.stringify(value, null, 2);
    result.appendChild(div);
    result.scrollTop = result.scrollHeight;
  }
  function readVariables() {
    var text = variables.value.trim();
    if (!text) return {};
    return JSON.parse(text);
  }
  function request() {
    return { query: query.value, variables: readVariables() };
  }
  function streaming(on, cancel) {
    stop = on ? cancel : null;
    stopButton.disabled = !on;
  }

  function run() {
    var body;
    try { body = JSON.stringify(request()); } catch (e) { show("Variables are not valid JSON: " + e.message); return; }
    setStatus("running…");
    var started = performance.now();
    fetch(endpoint, { method: "POST", headers: { "Content-Type": "application/json", "Accept": "application/json" }, body: body })
      .then(function (res) {
        return res.text().then(function (text) {
          setStatus(res.status + " · " + Math.round(performance.now() - started) + " ms");
          try { show(JSON.parse(text)); } catch (e) { show(text); }
        });
      })
      .catch(function (e) { setStatus("failed"); show(String(e)); });
  }

  function subscribeSSE(body) {
    var controller = new AbortController();
    streaming(true, function () { controller.abort(); });
    fetch(endpoint, { method: "POST", headers: { "Content-Type": "application/json", "Accept": "text/event-stream" }, body: body, signal: controller.signal })
      .then(function (res) {
        var reader = res.body.getReader(), decoder = new TextDecoder(), buffer = "";
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) { setStatus("closed"); streaming(false); return; }
            buffer += decoder.decode(chunk.value, { stream: true });
            var frames = buffer.split("\n\n");
            buffer = frames.pop();
            frames.forEach(function (frame) {
              var event = "message", data = [];
              frame.split("\n").forEach(function (line) {
                if (line.indexOf("event:") === 0) event = line.slice(6).trim();
                else if (line.indexOf("data:") === 0) data.push(line.slice(5).trim());
              });
              if (event === "complete") { setStatus("complete"); return; }
              if (data.length) { try { append(JSON.parse(data.join("\n"))); } catch (e) { append(data.join("\n")); } }
            });
            return pump();
          });
        }
        return pump();
      })
      .catch(function (e) { if (e.name !== "AbortError") { setStatus("failed"); append(String(e)); } streaming(false); });
  }

  function subscribeWS(payload) {
    var url = new URL(endpoint, location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    var ws = new WebSocket(url.href, "graphql-transport-ws");
    streaming(true, function () {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ id: "1", type: "complete" }));
      ws.close(1000);
    });
    ws.onopen = function () { ws.send(JSON.stringify({ type: "connection_init", payload: {} })); };
    ws.onmessage = function (e) {
      var msg = JSON.parse(e.data);
      switch (msg.type) {
        case "connection_ack": ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: payload })); break;
        case "ping": ws.send(JSON.stringify({ type: "pong" })); break;
        case "next": append(msg.payload); break;
        case "error": append({ errors: msg.payload }); break;
        case "complete": setStatus("complete"); ws.close(1000); break;
      }
    };
    ws.onerror = function () { setStatus("websocket error"); };
    ws.onclose = function (e) { if (e.code !== 1000) setStatus("closed " + e.code + " " + e.reason); streaming(false); };
  }

  function subscribe() {
    var payload;
    try { payload = request(); } catch (e) { show("Variables are not valid JSON: " + e.message); return; }
    if (stop) stop();
    result.textContent = "";
    setStatus("streaming…");
    if ($("transport").value === "ws") subscribeWS(payload);
    else subscribeSSE(JSON.stringify(payload));
  }

  $("run").addEventListener("click", run);
  $("subscribe").addEventListener("click", function () {
    if (query.value.indexOf("subscription") < 0) { query.value = exampleSubscription; }
    subscribe();
  });
  stopButton.addEventListener("click", function () { if (stop) stop(); setStatus("stopped"); });
  $("example-query").addEventListener("click", function () { query.value = exampleQuery; variables.value = exampleVariables; });
  $("example-sub").addEventListener("click", function () { query.value = exampleSubscription; variables.value = exampleVariables; });
  document.addEventListener("keydown", function (e) {
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") { e.preventDefault(); run(); }
  });

  query.value = exampleQuery;
  variables.value = exampleVariables;
})();
