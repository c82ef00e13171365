// GraphiQL, bundled from the npm package (no CDN: the page works with no internet access and
// tells no third party that someone is asking LawBot something). Queries go over POST,
// subscriptions over graphql-transport-ws on the same endpoint.
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import 'graphiql/style.css';
import './graphiql.css';
import { wsURL } from './api';

const endpoint = document.querySelector<HTMLMetaElement>('meta[name="graphql-endpoint"]')?.content || '/graphql';

const defaultQuery = `# LawBot GraphQL — 질문 하나에 대한 모든 것 (advice).
# ▶ 버튼(또는 Ctrl-Enter)으로 실행하세요. 구독(adviceStream)도 여기서 실행할 수 있습니다.

query Advice {
  advice(question: "전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요") {
    legal { isLegal decision score explanation }
    answer { text citations { id resolved statute { title } } }
    statutes(first: 5) { score reasons statute { id title effectiveDate url } }
    precedents(first: 3) { precedent { caseNumber court date title } }
    similarQuestions(first: 2) { score qa { question } }
    graph { nodes { id kind label } edges { from to kind } }
  }
}

# subscription Stream {
#   adviceStream(question: "전세 보증금을 못 받았어요") { stage delta legal { isLegal } error { code message } }
# }
`;

const fetcher = createGraphiQLFetcher({
  url: new URL(endpoint, window.location.href).toString(),
  subscriptionUrl: wsURL(endpoint),
});

const root = document.getElementById('graphiql');
if (root) {
  root.textContent = '';
  createRoot(root).render(
    <GraphiQL fetcher={fetcher} defaultQuery={defaultQuery} />,
  );
}
