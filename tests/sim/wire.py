"""What the protocol handlers see of a request, and Acumatica-shaped replies.

The HTTP server (server.py) turns each request into a `Request`; the OAuth,
session and control handlers take a Request and return an
http_types.Response. The error bodies here are the shapes recorded from real
instances (API-NOTES.md sections 1.9 and 3.1) or, where nothing was recorded,
the HttpError shape with the choice written down in README.md.
"""
import json
import urllib.parse
from http.cookies import SimpleCookie, CookieError

from http_types import Response, JSON_CONTENT_TYPE


class Headers(dict):
    """Request headers with case-insensitive lookup (keys stored lower-case)."""

    def __init__(self, pairs=()):
        super().__init__()
        for name, value in pairs:
            key = name.lower()
            if key in self:
                # Repeated headers are joined as HTTP allows (cookies with "; ").
                sep = "; " if key == "cookie" else ", "
                super().__setitem__(key, self[key] + sep + value)
            else:
                super().__setitem__(key, value)

    def __getitem__(self, name):
        return super().__getitem__(name.lower())

    def __contains__(self, name):
        return super().__contains__(name.lower())

    def get(self, name, default=None):
        return super().get(name.lower(), default)


class Request:
    """One parsed request. `subpath` is the percent-decoded path after the site
    path ("/entity/auth/login"); `query` holds decoded values (last one wins)."""

    def __init__(self, method, path, subpath, query, headers, body, tls, client):
        self.method = method
        self.path = path
        self.subpath = subpath
        self.query = query
        self.headers = headers
        self.body = body
        self.tls = tls
        self.client = client
        self._cookies = None

    @property
    def cookies(self):
        """Cookie name -> value from the Cookie header (a bad header gives {})."""
        if self._cookies is None:
            jar = SimpleCookie()
            try:
                jar.load(self.headers.get("cookie", ""))
            except CookieError:
                jar = SimpleCookie()
            self._cookies = {k: m.value for k, m in jar.items()}
        return self._cookies

    def origin(self):
        """scheme://host[:port] as the client addressed us (for absolute URLs)."""
        host = self.headers.get("host") or "127.0.0.1"
        return ("https://" if self.tls else "http://") + host

    def content_type(self):
        return (self.headers.get("content-type") or "").split(";")[0].strip().lower()

    def form(self):
        """The body as an x-www-form-urlencoded dict (last value wins)."""
        text = (self.body or b"").decode("utf-8", "replace")
        return dict(urllib.parse.parse_qsl(text, keep_blank_values=True))

    def json(self):
        """The body parsed as JSON; raises ValueError when it is not JSON."""
        return json.loads((self.body or b"").decode("utf-8"))


def json_reply(status, obj, headers=None):
    """A JSON Response, compact like ASP.NET's serializer."""
    body = json.dumps(obj, separators=(",", ":")).encode("utf-8")
    return Response(status, [("Content-Type", JSON_CONTENT_TYPE)] + list(headers or []), body)


def text_reply(status, text, content_type="text/html", headers=None):
    return Response(status, [("Content-Type", content_type)] + list(headers or []),
                    text.encode("utf-8"))


def empty_reply(status=204, headers=None):
    return Response(status, list(headers or []), b"")


def http_error(status, exception_message, exception_type, stack_trace=None,
               message="An error has occurred.", headers=None):
    """The HttpError body ASP.NET Web API gives for an exception (recorded shape)."""
    body = {"message": message, "exceptionMessage": exception_message,
            "exceptionType": exception_type}
    body["stackTrace"] = stack_trace if stack_trace is not None else _generic_trace(exception_type)
    return json_reply(status, body, headers)


def _generic_trace(exception_type):
    return ("   at PX.Api.ContractBased.WebApi.Controllers.EntityController.Invoke()\r\n"
            "   at System.Web.Http.Controllers.ApiControllerActionInvoker."
            "<InvokeActionAsyncCore>d__1.MoveNext()")


# Recorded (Jetbuilt, 2018): 401 for a data request without a session.
def not_logged_in():
    return json_reply(401, {"message": "You are not logged in."},
                      [("X-Handled-By", "Acumatica-PX.Export/AuthenticationManagerModule")])


# Recorded (Jetbuilt, 2023-12): the stack trace of a failed /entity/auth/login.
INVALID_CREDENTIALS_TRACE = "\r\n".join([
    '   at PX.Data.PXLogin.PX.Data.IPXLogin.LoginUser(String& userName, String password)',
    '   at PX.Api.Services.LoginService.Login(String login, String password, String company, String branch, String locale, String prefix)',
    '   at PX.Api.ContractBased.ILoginServiceExtensions.LoginForSoapApi(ILoginService loginService, IMultiFactorService multiFactorService, String login, String password, String company, String branch, String locale)',
    '   at PX.Api.ContractBased.WebApi.Controllers.AuthController.Login(Credentials credentials)',
    '   at System.Web.Http.Controllers.ReflectedHttpActionDescriptor.ActionExecutor.<>c__DisplayClass6_1.<GetExecutor>b__0(Object instance, Object[] methodParameters)',
    '   at System.Web.Http.Controllers.ReflectedHttpActionDescriptor.ExecuteAsync(HttpControllerContext controllerContext, IDictionary`2 arguments, CancellationToken cancellationToken)',
    '--- End of stack trace from previous location where exception was thrown ---',
    '   at System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw()',
    '   at System.Runtime.CompilerServices.TaskAwaiter.HandleNonSuccessAndDebuggerNotification(Task task)',
    '   at System.Web.Http.Controllers.ApiControllerActionInvoker.<InvokeActionAsyncCore>d__1.MoveNext()',
    '--- End of stack trace from previous location where exception was thrown ---',
    '   at System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw()',
    '   at System.Runtime.CompilerServices.TaskAwaiter.HandleNonSuccessAndDebuggerNotification(Task task)',
    '   at System.Web.Http.Filters.ActionFilterAttribute.<CallOnActionExecutedAsync>d__6.MoveNext()',
    '--- End of stack trace from previous location where exception was thrown ---',
    '   at System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw()',
    '   at System.Web.Http.Filters.ActionFilterAttribute.<CallOnActionExecutedAsync>d__6.MoveNext()',
    '--- End of stack trace from previous location where exception was thrown ---',
    '   at System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw()',
    '   at System.Runtime.CompilerServices.TaskAwaiter.HandleNonSuccessAndDebuggerNotification(Task task)',
    '   at System.Web.Http.Filters.ActionFilterAttribute.<ExecuteActionFilterAsyncCore>d__5.MoveNext()',
    '--- End of stack trace from previous location where exception was thrown ---',
    '   at System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw()',
    '   at System.Runtime.CompilerServices.TaskAwaiter.HandleNonSuccessAndDebuggerNotification(Task task)',
    '   at System.Web.Http.Controllers.ActionFilterResult.<ExecuteAsync>d__5.MoveNext()',
    '--- End of stack trace from previous location where exception was thrown ---',
    '   at System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw()',
    '   at System.Runtime.CompilerServices.TaskAwaiter.HandleNonSuccessAndDebuggerNotification(Task task)',
    '   at System.Web.Http.Dispatcher.HttpControllerDispatcher.<SendAsync>d__15.MoveNext()',
])


def invalid_credentials():
    return http_error(500, "Error: Invalid credentials. Please try again.",
                      "PX.Data.PXException", INVALID_CREDENTIALS_TRACE)


def undefined_company():
    return http_error(500, "A proper company ID cannot be determined for the request.",
                      "PX.Data.PXUndefinedCompanyException",
                      "   at PX.Data.PXDatabaseProviderBase.getCompanyID(String company)\r\n"
                      "   at PX.Api.Services.LoginService.Login(String login, String password, "
                      "String company, String branch, String locale, String prefix)")


def api_login_limit():
    """Sign-in beyond the API-user seats. Status and text UNCONFIRMED: 429 chosen
    because the sign-in docs list 429 and the official client maps the text to it."""
    return http_error(429, "API Login Limit: the number of concurrent sessions of API users "
                      "has reached the limit of the license.", "PX.Data.PXException",
                      "   at PX.Data.PXLogin.CheckApiUsersLimits(String userName)\r\n"
                      "   at PX.Api.Services.LoginService.Login(String login, String password, "
                      "String company, String branch, String locale, String prefix)")


LICENSE_LIMIT_MESSAGE = "The number of requests has exceeded the limit imposed by the license."


def license_limit_exceeded(retry_after=None):
    """A request declined by the license queue (429; body UNCONFIRMED)."""
    headers = [("Retry-After", str(int(retry_after)))] if retry_after is not None else []
    return json_reply(429, {"message": LICENSE_LIMIT_MESSAGE}, headers)


def request_body_empty():
    """Recorded 400 for a request that needs a body and has none."""
    return json_reply(400, {"message": "The request is invalid.",
                            "modelState": {"": ["The request body should not be empty."]}})


def model_state_error(key, text):
    return json_reply(400, {"message": "The request is invalid.", "modelState": {key: [text]}})


def length_required():
    """What IIS answers to a POST/PUT without Content-Length (HTTP.sys page)."""
    return text_reply(411, _iis_page("Length Required", "HTTP Error 411. The request must be chunked or have a content length."),
                      "text/html; charset=us-ascii")


def _iis_page(title, text):
    return ('<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">\r\n'
            '<HTML><HEAD><TITLE>%s</TITLE>\r\n'
            '<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>\r\n'
            '<BODY><h2>%s</h2>\r\n<hr><p>%s</p>\r\n</BODY></HTML>\r\n') % (title, title, text)


def iis_error(status, title, text, headers=None):
    return text_reply(status, _iis_page(title, text), "text/html; charset=us-ascii", headers)


def not_found_outside_site():
    return iis_error(404, "Not Found", "HTTP Error 404. The requested resource is not found.")


def oauth_error(status, error, description=None, headers=None):
    """RFC 6749 section 5.2 error body; never carries a secret."""
    body = {"error": error}
    if description:
        body["error_description"] = description
    return json_reply(status, body, [("Cache-Control", "no-store"), ("Pragma", "no-cache")]
                      + list(headers or []))
