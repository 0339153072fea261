/* A worker importing wws's outbound HTTP (`http`.`send-http-request`), which wasmbox does not
 * provide: the app must fail to start, naming the import. */
__attribute__((import_module("http"), import_name("send-http-request"))) extern void
send_http_request(int, int);

int main(void) {
    send_http_request(0, 0);
    return 0;
}
