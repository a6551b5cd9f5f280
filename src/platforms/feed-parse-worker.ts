import { answerRequests } from '../infra/threads';
import { parseFeedDocument } from './feeds';

/** The thread that parses large feed documents, so a hostile or huge feed never holds up the process. */
answerRequests((request: { xml: string; base: string }) => parseFeedDocument(request.xml, request.base));
