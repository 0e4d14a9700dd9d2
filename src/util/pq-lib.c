/*
 * pq-lib.c - libpq's functions that db-pg.c calls, loading libpq on the
 * first (dl.h): a command on SQLite never loads it.
 */
#include <libpq-fe.h>

#include "util/dl.h"

static struct util_dl util_pq = { "libpq.so.5", NULL };

UTIL_DL_VOID(util_pq, PQclear, (PGresult * res), (res))
UTIL_DL_FN(util_pq, char *, PQcmdTuples, (PGresult * res), (res))
UTIL_DL_FN(util_pq, PGconn *, PQconnectdb, (const char *conninfo), (conninfo))
UTIL_DL_FN(util_pq, int, PQconsumeInput, (PGconn * conn), (conn))
UTIL_DL_FN(util_pq, char *, PQerrorMessage, (const PGconn *conn), (conn))
UTIL_DL_FN(util_pq, int, PQenterPipelineMode, (PGconn * conn), (conn))
UTIL_DL_FN(util_pq, PGresult *, PQexec, (PGconn * conn, const char *query),
    (conn, query))
UTIL_DL_FN(util_pq, PGresult *, PQexecParams,
    (PGconn * conn, const char *command, int nParams, const Oid *paramTypes,
        const char *const *paramValues, const int *paramLengths,
        const int *paramFormats, int resultFormat),
    (conn, command, nParams, paramTypes, paramValues, paramLengths,
        paramFormats, resultFormat))
UTIL_DL_FN(util_pq, PGresult *, PQexecPrepared,
    (PGconn * conn, const char *stmtName, int nParams,
        const char *const *paramValues, const int *paramLengths,
        const int *paramFormats, int resultFormat),
    (conn, stmtName, nParams, paramValues, paramLengths, paramFormats,
        resultFormat))
UTIL_DL_FN(util_pq, int, PQexitPipelineMode, (PGconn * conn), (conn))
UTIL_DL_VOID(util_pq, PQfinish, (PGconn * conn), (conn))
UTIL_DL_VOID(util_pq, PQfreemem, (void *ptr), (ptr))
UTIL_DL_FN(util_pq, PGresult *, PQgetResult, (PGconn * conn), (conn))
UTIL_DL_FN(util_pq, int, PQgetisnull,
    (const PGresult *res, int tup_num, int field_num),
    (res, tup_num, field_num))
UTIL_DL_FN(util_pq, char *, PQgetvalue,
    (const PGresult *res, int tup_num, int field_num),
    (res, tup_num, field_num))
UTIL_DL_FN(util_pq, PGnotify *, PQnotifies, (PGconn * conn), (conn))
UTIL_DL_FN(util_pq, int, PQntuples, (const PGresult *res), (res))
UTIL_DL_FN(util_pq, int, PQpipelineSync, (PGconn * conn), (conn))
UTIL_DL_VOID(util_pq, PQreset, (PGconn * conn), (conn))
UTIL_DL_FN(util_pq, char *, PQresultErrorField,
    (const PGresult *res, int fieldcode), (res, fieldcode))
UTIL_DL_FN(util_pq, ExecStatusType, PQresultStatus, (const PGresult *res),
    (res))
UTIL_DL_FN(util_pq, int, PQsendPrepare,
    (PGconn * conn, const char *stmtName, const char *query, int nParams,
        const Oid *paramTypes),
    (conn, stmtName, query, nParams, paramTypes))
UTIL_DL_FN(util_pq, int, PQsendQueryParams,
    (PGconn * conn, const char *command, int nParams, const Oid *paramTypes,
        const char *const *paramValues, const int *paramLengths,
        const int *paramFormats, int resultFormat),
    (conn, command, nParams, paramTypes, paramValues, paramLengths,
        paramFormats, resultFormat))
UTIL_DL_FN(util_pq, int, PQsendQueryPrepared,
    (PGconn * conn, const char *stmtName, int nParams,
        const char *const *paramValues, const int *paramLengths,
        const int *paramFormats, int resultFormat),
    (conn, stmtName, nParams, paramValues, paramLengths, paramFormats,
        resultFormat))
UTIL_DL_FN(util_pq, int, PQsocket, (const PGconn *conn), (conn))
UTIL_DL_FN(util_pq, ConnStatusType, PQstatus, (const PGconn *conn), (conn))
