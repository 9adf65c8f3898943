"""The OpenAPI paths of tickets.referrals_api, merged into /api/v1/openapi.json (tickets.openapi.extend).
The Referral and Diagnosis schemas sit in tickets.openapi: the ticket document uses them too."""

from __future__ import annotations

from typing import Any

from tickets.openapi import ERRORS, INVALID, NULLABLE_STRING, REFERENCE, json_response, ref

CONTACT = {
    "type": "object",
    "required": ["name", "email", "phone"],
    "properties": {"name": {"type": "string"}, "email": NULLABLE_STRING, "phone": NULLABLE_STRING},
}
INSTITUTE = {
    "type": "object",
    "required": ["key", "name", "kind", "regions", "fields", "support_types", "active", "contacts"],
    "properties": {
        "key": {"type": "string"},
        "name": {
            "type": "object",
            "required": ["ko", "en"],
            "properties": {"ko": {"type": "string"}, "en": NULLABLE_STRING},
        },
        "kind": {
            "type": "string",
            "enum": ["research_institute", "university", "technopark", "testing_body", "other"],
        },
        "regions": {"type": "array", "items": {"type": "string"}},
        "fields": {"type": "array", "items": {"type": "string"}},
        "support_types": {"type": "array", "items": {"type": "string"}},
        "keywords": {"type": "array", "items": {"type": "string"}},
        "active": {"type": "boolean"},
        "contacts": {"type": "array", "items": CONTACT},
    },
}
SCHEMAS: dict[str, Any] = {
    "Institute": INSTITUTE,
    "InstituteList": {
        "type": "object",
        "required": ["institutes"],
        "properties": {"institutes": {"type": "array", "items": ref("Institute")}},
    },
    "SuggestionList": {
        "type": "object",
        "required": ["institutes"],
        "properties": {
            "institutes": {
                "type": "array",
                "items": {
                    "allOf": [ref("Institute")],
                    "type": "object",
                    "required": ["near", "open_referrals"],
                    "properties": {
                        "near": {"type": "boolean", "description": "in the company's region"},
                        "open_referrals": {"type": "integer"},
                    },
                },
            }
        },
    },
    "DiagnosisCreated": {
        "type": "object",
        "required": ["diagnosis"],
        "properties": {"diagnosis": ref("Diagnosis")},
    },
    "LinksRevoked": {
        "type": "object",
        "required": ["referral", "links_revoked"],
        "properties": {"referral": ref("Referral"), "links_revoked": {"type": "integer"}},
    },
}
CLOSED = {"409": json_response("Error", "the ticket is resolved or closed, or already referred there")}
STRING = {"type": "string"}

PATHS: dict[str, Any] = {
    "/institutes": {
        "get": {
            "summary": "Partner institutes by key, filtered",
            "parameters": [
                {"name": "field", "in": "query", "schema": STRING},
                {"name": "support_type", "in": "query", "schema": STRING},
                {"name": "q", "in": "query", "schema": STRING, "description": "a word of a name or keyword"},
            ],
            "responses": {
                "200": json_response("InstituteList", "institutes"),
                "401": ERRORS["401"],
                "403": ERRORS["403"],
            },
        }
    },
    "/tickets/{reference}/diagnosis": {
        "post": {
            "summary": "Record a diagnosis: what the problem is and which support types it needs",
            "parameters": REFERENCE,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["summary"],
                            "properties": {"summary": STRING, "needs": {"type": "array", "items": STRING}},
                        }
                    }
                },
            },
            "responses": {
                "201": json_response("DiagnosisCreated", "recorded"),
                "400": json_response("Error", "not a JSON object"),
                **ERRORS,
                **CLOSED,
                **INVALID,
            },
        }
    },
    "/tickets/{reference}/suggestions": {
        "get": {
            "summary": "Institutes for this ticket: its field and needs, the nearest and least busy first",
            "parameters": REFERENCE,
            "responses": {"200": json_response("SuggestionList", "suggestions"), **ERRORS},
        }
    },
    "/tickets/{reference}/referrals": {
        "post": {
            "summary": "Refer the ticket to an institute, which gets a private link to answer",
            "parameters": REFERENCE,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["institute"],
                            "properties": {
                                "institute": {"type": "string", "description": "an institute's key"},
                                "contact": {
                                    "type": "string",
                                    "description": "a contact's name (default: first)",
                                },
                                "note": STRING,
                            },
                        }
                    }
                },
            },
            "responses": {
                "201": json_response("Referral", "referred"),
                "400": json_response("Error", "not a JSON object"),
                **ERRORS,
                **CLOSED,
                "422": json_response("Error", "unknown or inactive institute, unknown contact, bad note"),
            },
        }
    },
    "/tickets/{reference}/referrals/{referral_id}/revoke": {
        "post": {
            "summary": "Stop the referral's private links from working",
            "parameters": [
                *REFERENCE,
                {"name": "referral_id", "in": "path", "required": True, "schema": {"type": "integer"}},
            ],
            "responses": {"200": json_response("LinksRevoked", "revoked"), **ERRORS},
        }
    },
    "/tickets/{reference}/referrals/{referral_id}/new-link": {
        "post": {
            "summary": "After revoking, send one new private link to the institute's contact",
            "description": "The referral keeps its dates: the new link expires with the revoked ones.",
            "parameters": [
                *REFERENCE,
                {"name": "referral_id", "in": "path", "required": True, "schema": {"type": "integer"}},
            ],
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {"contact": {**STRING, "description": "default: the referral's"}},
                        }
                    }
                },
            },
            "responses": {
                "201": json_response("Referral", "sent"),
                "400": json_response("Error", "not a JSON object"),
                **ERRORS,
                "409": json_response("Error", "the referral is final, its link still works, or it expired"),
                "422": json_response("Error", "unknown contact"),
            },
        }
    },
}
