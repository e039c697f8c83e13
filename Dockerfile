# Build: queries are checked against the committed .sqlx data, so no database is needed here.
FROM rust:1.95-bookworm AS build
WORKDIR /src
ENV SQLX_OFFLINE=true
COPY . .
RUN cargo build --release --locked && strip target/release/yishi

# Run: a small image with the one binary (templates, migrations and CSS are compiled in).
FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --no-create-home yishi \
 && mkdir -p /var/lib/yishi && chown yishi /var/lib/yishi && chmod 700 /var/lib/yishi
COPY --from=build /src/target/release/yishi /usr/local/bin/yishi
USER yishi
# The key files (kept outside the database) live here: mount a volume of its own.
ENV YISHI_BIND=0.0.0.0:8080 YISHI_LOG_FORMAT=json YISHI_DATA_DIR=/var/lib/yishi
VOLUME /var/lib/yishi
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /readyz HTTP/1.0\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["yishi"]
